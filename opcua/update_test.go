package opcua

import (
	"fmt"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// The load nodes step 1, 2, 3, … together (testdata/simulator/load.c), so
// every node's values are an independent truth: a kept node must show
// every value once, a removed one a gap-free run that stops, an added one
// a gap-free run that starts.

func loadNode(k int) Node {
	n := testNode("sim", fmt.Sprintf("%s%d", loadNS, k))
	n.Name = fmt.Sprintf("load/%d", k)
	return n
}

// values returns the readings' values, in order.
func values(t *testing.T, rs []fb.Reading) []uint64 {
	t.Helper()
	out := make([]uint64, 0, len(rs))
	for _, r := range rs {
		if r.Value.Type != fb.TypeUInt64 {
			t.Fatalf("%s: value %+v is not a UInt64 (status %#x)", r.Name, r.Value, r.Status)
		}
		out = append(out, r.Value.Uint())
	}
	return out
}

// gapFree reports the first place where vs is not n, n+1, n+2, …; "" when
// it is.
func gapFree(vs []uint64) string {
	for k := 1; k < len(vs); k++ {
		if vs[k] != vs[k-1]+1 {
			return fmt.Sprintf("value %d follows %d (position %d of %d)", vs[k], vs[k-1], k, len(vs))
		}
	}
	return ""
}

// increasing reports the first place where vs does not increase; "" when
// it does.
func increasing(vs []uint64) string {
	for k := 1; k < len(vs); k++ {
		if vs[k] <= vs[k-1] {
			return fmt.Sprintf("value %d follows %d (a repeat)", vs[k], vs[k-1])
		}
	}
	return ""
}

// countBefore returns how many readings of rs, in order, have a source time
// before t.
func countBefore(rs []fb.Reading, t time.Time) int {
	n := 0
	for n < len(rs) && rs[n].SourceTime.Before(t) {
		n++
	}
	return n
}

// TestUpdateOnTheRunningSession changes a running client's nodes: removes,
// adds, modifies, moves to another publishing interval, renames, and
// switches one to cyclic reads. The session is kept (no reconnect), no
// value of a kept node is lost or delivered twice, removed nodes stop,
// added nodes start, and the re-created and modified items' first values
// (which the server sends again) are not new readings.
func TestUpdateOnTheRunningSession(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 16, Rate: 20})
	logs := &testenv.Logs{}
	sink := newRecordSink()
	before := testServer("sim", sim.Endpoint)
	for k := range 10 {
		before.Nodes = append(before.Nodes, loadNode(k))
	}
	// load/4's old item holds up to a second of values not sent yet when
	// it is deleted: they are lost unless its deletion waits for the new
	// item to overlap.
	before.Nodes[4].PublishingInterval = time.Second
	c := newClient(t, testOptions(before, sink, logs))
	stop := runClient(t, c)
	sink.waitFor(t, 20*time.Second, "values of every node", func([]fb.Reading) bool {
		return len(sink.byName()) == 10
	})
	// load/4's first values came last, just now: the update comes half way
	// through its old publishing interval, when its item holds half a
	// second of values not sent yet.
	time.Sleep(1500 * time.Millisecond)

	after := testServer("sim", sim.Endpoint)
	for k := 2; k < 12; k++ { // load/0 and load/1 removed, load/10 and load/11 added
		n := loadNode(k)
		switch k {
		case 2:
			// Modified. Only sampling interval 0 samples every write
			// (load.c); a loaded simulator writes the values it is late
			// with back to back, and the server then may sample only the
			// last of them: from the update on, gaps here are no loss.
			n.SamplingInterval = 10 * time.Millisecond
		case 3:
			n.QueueSize = 50 // modified
		case 4, 5:
			n.PublishingInterval = 300 * time.Millisecond // moved
		case 6:
			n.Name = "load/6-renamed"
		case 7:
			n.Mode, n.ReadInterval, n.ReadReport = ModeRead, 200*time.Millisecond, ReportChange // switched
		}
		after.Nodes = append(after.Nodes, n)
	}
	updatedAt := time.Now()
	must(t, c.Update(after))
	logs.WaitFor(t, 10*time.Second, "nodes updated on the running session")
	time.Sleep(2 * time.Second)
	stop()

	st := c.Stats()
	if st.Reconnects != 0 || st.Updates != 1 {
		t.Errorf("Reconnects = %d, Updates = %d; want the update applied on the first session", st.Reconnects, st.Updates)
	}
	if line := logs.Records("nodes updated on the running session"); len(line) != 1 ||
		!strings.Contains(logs.String(), `"added":2,"removed":2,"modified":2,"moved":2,"switched":1`) {
		t.Errorf("update not logged with its counts:\n%s", logs.String())
	}
	got := sink.byName()
	if renamed := got["load/6-renamed"]; len(renamed) == 0 {
		t.Errorf("no values under the new name of load/6")
	} else {
		got["load/6"] = append(got["load/6"], renamed...)
	}
	for k := range 12 {
		name := fmt.Sprintf("load/%d", k)
		rs := got[name]
		vs := values(t, rs)
		if len(vs) == 0 {
			t.Errorf("%s: no values", name)
			continue
		}
		switch k {
		case 7: // read every 200 ms, reported on change: increasing, never repeated
			if why := increasing(vs); why != "" {
				t.Errorf("%s: %s after the switch to reads", name, why)
			}
			continue
		case 2: // sampled every 10 ms after the update: increasing, gap-free before
			if why := increasing(vs); why != "" {
				t.Errorf("%s: %s after its sampling interval changed", name, why)
			}
			vs = vs[:countBefore(rs, updatedAt)]
		}
		if why := gapFree(vs); why != "" {
			t.Errorf("%s: %s", name, why)
		}
		first, last := rs[0].SourceTime, rs[len(rs)-1].SourceTime
		switch {
		case k < 2 && last.After(updatedAt.Add(time.Second)):
			t.Errorf("%s was removed at %s but has values until %s", name, updatedAt.Format(time.StampMilli), last.Format(time.StampMilli))
		case k >= 10 && first.Before(updatedAt.Add(-time.Second)):
			t.Errorf("%s was added at %s but has values from %s", name, updatedAt.Format(time.StampMilli), first.Format(time.StampMilli))
		case k >= 2 && k < 10 && !(first.Before(updatedAt) && last.After(updatedAt.Add(time.Second))):
			t.Errorf("%s was kept but its values span %s – %s, not across the update at %s", name,
				first.Format(time.StampMilli), last.Format(time.StampMilli), updatedAt.Format(time.StampMilli))
		}
	}
}

// TestUpdateRejectsBadNodes: an update with a node that is not valid
// returns an error naming it and changes nothing.
func TestUpdateRejectsBadNodes(t *testing.T) {
	opts := testServer("sim", "opc.tcp://127.0.0.1:1", "ns=1;s=a")
	c := newClient(t, testOptions(opts, newRecordSink(), &testenv.Logs{}))
	bad := testServer("sim", "opc.tcp://127.0.0.1:1", "ns=1;s=a", "ns=1;s=b")
	bad.Nodes[1].Trigger = "whenever"
	if err := c.Update(bad); err == nil || !strings.Contains(err.Error(), "ns=1;s=b") {
		t.Fatalf("Update(bad trigger) = %v, want an error naming the node", err)
	}
	if p := c.takePending(); p != nil {
		t.Errorf("a rejected update is pending")
	}
}

// TestUpdateBetweenSessions: an update made before Run (or while the
// server is unreachable) is the list the first session subscribes to.
func TestUpdateBetweenSessions(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 4, Rate: 20})
	sink := newRecordSink()
	logs := &testenv.Logs{}
	opts := testServer("sim", sim.Endpoint)
	opts.Nodes = []Node{loadNode(0)}
	c := newClient(t, testOptions(opts, sink, logs))
	opts.Nodes = []Node{loadNode(1), loadNode(2)}
	must(t, c.Update(opts))
	runClient(t, c)
	sink.waitFor(t, 20*time.Second, "values of load/1 and load/2", func([]fb.Reading) bool {
		got := sink.byName()
		return len(got["load/1"]) > 2 && len(got["load/2"]) > 2
	})
	if n := len(sink.byName()["load/0"]); n != 0 {
		t.Errorf("load/0, replaced before the first session, has %d values", n)
	}
	logs.WaitFor(t, time.Second, "nodes updated; the next session subscribes to them")
}

// TestUpdateEventsAndReads changes the event sources and the cyclic reads
// of a running client: the assembly's events stop, the test station's
// start, a read node's interval changes and another joins; the subscribed
// node beside them loses nothing, and the session is kept.
func TestUpdateEventsAndReads(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 4, Rate: 20, Speed: 50, Seed: 3})
	sink, logs := newRecordSink(), &testenv.Logs{}
	events := func(station string) EventSource {
		return EventSource{Name: "line/" + station + "/events", Line: "line", Station: station, Server: "sim",
			ID: stationID + station, Fields: []string{"EventType", "SourceName", "Message"}}
	}
	read := func(k int, every time.Duration) Node {
		n := loadNode(k)
		n.Mode, n.ReadInterval = ModeRead, every
		return n
	}
	opts := testServer("sim", sim.Endpoint)
	opts.Nodes = []Node{loadNode(0), read(1, 200*time.Millisecond)}
	opts.Events = []EventSource{events("assembly")}
	c := newClient(t, testOptions(opts, sink, logs))
	stop := runClient(t, c)
	sink.waitFor(t, 60*time.Second, "an assembly event and reads", func(rs []fb.Reading) bool {
		return len(ofClass(rs, "line/assembly/events", fb.ClassEvent)) > 0 && len(sink.byName()["load/1"]) > 2
	})

	opts.Nodes = []Node{loadNode(0), read(1, 100*time.Millisecond), read(2, 100*time.Millisecond)}
	opts.Events = []EventSource{events("test")}
	must(t, c.Update(opts))
	logs.WaitFor(t, 10*time.Second, "nodes updated on the running session")
	updatedAt := time.Now()
	sink.waitFor(t, 60*time.Second, "a test station event and reads of load/2", func(rs []fb.Reading) bool {
		return len(ofClass(rs, "line/test/events", fb.ClassEvent)) > 0 && len(sink.byName()["load/2"]) > 2
	})
	time.Sleep(500 * time.Millisecond)
	stop()

	if st := c.Stats(); st.Reconnects != 0 || st.Updates != 1 {
		t.Errorf("Reconnects = %d, Updates = %d; want the update applied on the first session", st.Reconnects, st.Updates)
	}
	if !logs.Contains(`"events_changed":true`) {
		t.Errorf("the update does not say the event sources changed:\n%s", logs.String())
	}
	for _, r := range ofClass(sink.snapshot(), "line/assembly/events", fb.ClassEvent) {
		if r.ServerTime.After(updatedAt.Add(time.Second)) {
			t.Errorf("an assembly event received at %s, after its source was removed at %s", r.ServerTime, updatedAt)
		}
	}
	for _, r := range ofClass(sink.snapshot(), "line/test/events", fb.ClassEvent) {
		if !strings.Contains(r.Value.Str, `"SourceName":"test"`) {
			t.Errorf("event of another station on the test station's source: %s", r.Value.Str)
		}
	}
	if why := gapFree(values(t, sink.byName()["load/0"])); why != "" {
		t.Errorf("load/0, subscribed beside the changes: %s", why)
	}
	reads := sink.byName()["load/1"]
	var after int
	for _, r := range reads {
		if r.ServerTime.After(updatedAt) {
			after++
		}
	}
	if elapsed := time.Since(updatedAt); after < int(elapsed/(150*time.Millisecond)) {
		t.Errorf("load/1 read %d times in the %s after its interval became 100 ms", after, elapsed.Round(time.Millisecond))
	}
}
