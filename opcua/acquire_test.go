package opcua

import (
	"strings"
	"sync"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// stationID prefixes the node ids of the simulator's line variables.
const stationID = "nsu=http://opcfoundation.org/UA/Station/;s="

// proxied returns a test proxy in front of the simulator and the endpoint
// to give the client.
func proxied(t *testing.T, sim *testenv.Simulator) (*testenv.Proxy, string) {
	t.Helper()
	p := testenv.StartProxy(t, strings.TrimPrefix(sim.Endpoint, "opc.tcp://"))
	return p, "opc.tcp://" + p.Addr
}

// cutFor cuts the client's connection and refuses new ones for d.
func cutFor(p *testenv.Proxy, d time.Duration) {
	p.Stall()
	p.Cut()
	time.Sleep(d) // the outage itself: nothing to wait for
	p.Resume()
}

// ofClass returns the readings of name with class c, in arrival order.
func ofClass(rs []fb.Reading, name string, c fb.Class) []fb.Reading {
	var out []fb.Reading
	for _, r := range rs {
		if r.Name == name && r.Class == c {
			out = append(out, r)
		}
	}
	return out
}

// stateLog records OnState and OnGapFilled calls in order.
type stateLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *stateLog) onState(_ string, up bool, _ time.Time) {
	l.add(map[bool]string{true: "up", false: "down"}[up])
}

func (l *stateLog) onGapFilled(_ string, nodes []string) {
	l.add("filled:" + strings.Join(nodes, ","))
}

func (l *stateLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

func (l *stateLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// TestHeartbeat checks cadence and marking of heartbeats of a node that
// never changes, and that none is sent while the session is down or while
// the server has stopped answering.
func TestHeartbeat(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{})
	p, endpoint := proxied(t, sim)
	const hb = 300 * time.Millisecond
	opts := testServer("hb", endpoint, typesNS+"Int32")
	opts.Nodes[0].Heartbeat = hb
	opts.KeepAlive, opts.WatchdogFloor = time.Second, time.Second // a silent server is declared down within 3 s
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := newClient(t, testOptions(opts, sink, logs))
	runClient(t, c)
	name := opts.Nodes[0].Name
	sink.waitFor(t, 10*time.Second, "5 heartbeats", func(rs []fb.Reading) bool { return len(ofClass(rs, name, fb.ClassHeartbeat)) >= 5 })
	live := ofClass(sink.snapshot(), name, fb.ClassReading)
	beats := ofClass(sink.snapshot(), name, fb.ClassHeartbeat)
	if len(live) != 1 {
		t.Fatalf("%d live readings of a constant node, want 1", len(live))
	}
	prev := live[0].ServerTime
	for i, b := range beats {
		if !b.SourceTime.Equal(live[0].SourceTime) || !equalValues(&b.Value, &live[0].Value) || b.Status != live[0].Status {
			t.Errorf("heartbeat %d %+v does not repeat %+v", i, b, live[0])
		}
		if gap := b.ServerTime.Sub(prev); gap < hb-20*time.Millisecond || gap > 3*hb {
			t.Errorf("heartbeat %d %s after the previous, want about %s", i, gap, hb)
		}
		prev = b.ServerTime
	}

	// A silent server: heartbeats stop within an interval.
	p.Stall()
	stalled := time.Now()
	testenv.Wait(t, 10*time.Second, "the session declared down", func() bool { return c.Stats().State == StateDown })
	down := time.Now()
	time.Sleep(3 * hb) // no heartbeat may come while down: wait for none
	for _, b := range ofClass(sink.snapshot(), name, fb.ClassHeartbeat) {
		if b.ServerTime.After(stalled.Add(hb + hb/2)) {
			t.Errorf("heartbeat sent at %s, %s after the server went silent", b.ServerTime.Format(time.StampMilli), b.ServerTime.Sub(stalled))
		}
	}
	p.Cut()
	p.Resume()
	sink.waitFor(t, 30*time.Second, "heartbeats again", func(rs []fb.Reading) bool {
		n := 0
		for _, b := range ofClass(rs, name, fb.ClassHeartbeat) {
			if b.ServerTime.After(down) {
				n++
			}
		}
		return n >= 2
	})
	t.Logf("heartbeats: %d before the stall; silent after %s", len(beats), down.Sub(stalled).Round(time.Millisecond))
}

// TestSkipFirst checks that the first value after start is dropped, that
// a reconnect to the same server does not repeat the unchanged value, and
// that after a server restart the node's new value is delivered.
func TestSkipFirst(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 1, Rate: 20})
	p, endpoint := proxied(t, sim)
	opts := testServer("skip", endpoint, typesNS+"Int32", loadNS+"0")
	for i := range opts.Nodes {
		opts.Nodes[i].SkipFirst = true
	}
	constant, counter := opts.Nodes[0].Name, opts.Nodes[1].Name
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := newClient(t, testOptions(opts, sink, logs))
	runClient(t, c)
	sink.waitFor(t, 10*time.Second, "counter values", func(rs []fb.Reading) bool { return len(ofClass(rs, counter, fb.ClassReading)) >= 5 })
	checkCounterFrom(t, sink, counter, 0)
	if n := len(ofClass(sink.snapshot(), constant, fb.ClassReading)); n != 0 {
		t.Fatalf("constant node delivered %d values on the first connect, want 0", n)
	}

	cutFor(p, 500*time.Millisecond)
	testenv.Wait(t, 20*time.Second, "reconnected", func() bool { return c.Stats().Reconnects == 1 && c.Stats().State == StateConnected })
	sink.waitFor(t, 10*time.Second, "counter values after the reconnect", func(rs []fb.Reading) bool { return len(ofClass(rs, counter, fb.ClassReading)) >= 30 })
	if n := len(ofClass(sink.snapshot(), constant, fb.ClassReading)); n != 0 {
		t.Fatalf("constant node delivered %d values after a reconnect, want 0: it did not change", n)
	}

	must(t, sim.Stop())
	must(t, sim.Start())
	sink.waitFor(t, 30*time.Second, "the constant node after the server restart", func(rs []fb.Reading) bool {
		return len(ofClass(rs, constant, fb.ClassReading)) == 1
	})
}

// checkCounterFrom checks that a load counter's delivered values never
// repeat and never go back from index from on.
func checkCounterFrom(t *testing.T, sink *recordSink, name string, from int) {
	t.Helper()
	rs := ofClass(sink.snapshot(), name, fb.ClassReading)
	for i := from + 1; i < len(rs); i++ {
		if rs[i].Value.Uint() <= rs[i-1].Value.Uint() {
			t.Fatalf("%s: value %d after %d", name, rs[i].Value.Uint(), rs[i-1].Value.Uint())
		}
	}
}
