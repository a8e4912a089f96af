package opcua

import (
	"context"
	"sync"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// memMarks is an in-memory Watermarks: what the buffer keeps durably.
type memMarks struct {
	mu    sync.Mutex
	marks map[string]time.Time
}

func (m *memMarks) Track(string) {}

func (m *memMarks) Watermark(name string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.marks[name]
	return t, ok
}

// commit records what a sink committed, as the buffer does.
func (m *memMarks) commit(rs []fb.Reading) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		if (r.Class == fb.ClassReading || r.Class == fb.ClassBackfill) && r.SourceTime.After(m.marks[r.Name]) {
			m.marks[r.Name] = r.SourceTime
		}
	}
}

// checkEveryValue checks that a load counter's readings, live and
// backfilled, are every value from the first on, once and in order, and
// returns how many were backfilled.
func checkEveryValue(t *testing.T, rs []fb.Reading, name string) (backfilled int) {
	t.Helper()
	var prev uint64
	n := 0
	for _, r := range rs {
		if r.Name != name || (r.Class != fb.ClassReading && r.Class != fb.ClassBackfill) {
			continue
		}
		if n > 0 && r.Value.Uint() != prev+1 {
			t.Fatalf("%s: value %d (%s) after %d", name, r.Value.Uint(), map[bool]string{true: "backfilled", false: "live"}[r.Class == fb.ClassBackfill], prev)
		}
		if r.Class == fb.ClassBackfill {
			backfilled++
		}
		prev, n = r.Value.Uint(), n+1
	}
	return backfilled
}

// TestBackfillAfterCut cuts the connection for 2 s: the values of the gap
// come from the server's history, marked, once and in order, before the
// live values; OnGapFilled names both nodes before OnState says up. A
// second client with the first one's watermarks (a bridge restart) fills
// the gap since the first one stopped.
func TestBackfillAfterCut(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 2, Rate: 20, History: true})
	p, endpoint := proxied(t, sim)
	marks := &memMarks{marks: map[string]time.Time{}}
	opts := testServer("bf", endpoint, loadIDs(2)...)
	for i := range opts.Nodes {
		opts.Nodes[i].Backfill = true
	}
	opts.Watermarks = marks
	calls := &stateLog{}
	opts.OnState, opts.OnGapFilled = calls.onState, calls.onGapFilled
	sink := &markingSink{recordSink: newRecordSink(), marks: marks}
	logs := &testenv.Logs{}
	c := newClient(t, testOptions(opts, sink, logs))
	stop := runClient(t, c)
	names := []string{opts.Nodes[0].Name, opts.Nodes[1].Name}
	sink.waitFor(t, 10*time.Second, "live values", func(rs []fb.Reading) bool { return len(rs) >= 20 })

	cutFor(p, 2*time.Second)
	sink.waitFor(t, 20*time.Second, "values after the gap", func(rs []fb.Reading) bool {
		return len(ofClass(rs, names[0], fb.ClassBackfill)) > 0 && len(ofClass(rs, names[0], fb.ClassReading)) >= 60
	})
	for _, n := range names {
		if bf := checkEveryValue(t, sink.snapshot(), n); bf < 30 {
			t.Errorf("%s: %d values backfilled after a 2 s cut at 20/s, want about 40", n, bf)
		}
	}
	testenv.Wait(t, 5*time.Second, "the gap reported", func() bool { return len(calls.get()) >= 4 })
	if got := calls.get(); got[1] != "down" || got[2] != "filled:"+names[0]+","+names[1] || got[3] != "up" {
		t.Errorf("OnState and OnGapFilled calls %v, want up, down, filled:<both>, up", got)
	}
	stop()

	// A restart: a new client with the durable watermarks.
	time.Sleep(time.Second) // the gap: values the second client must read from history
	sink2 := &markingSink{recordSink: newRecordSink(), marks: marks}
	c2 := newClient(t, testOptions(opts, sink2, logs))
	runClient(t, c2)
	sink2.waitFor(t, 20*time.Second, "backfill after the restart", func(rs []fb.Reading) bool {
		return len(ofClass(rs, names[0], fb.ClassBackfill)) > 0 && len(ofClass(rs, names[0], fb.ClassReading)) >= 20
	})
	all := append(sink.snapshot(), sink2.snapshot()...)
	for _, n := range names {
		checkEveryValue(t, all, n)
	}
	if logs.Contains("backfill failed") || logs.Contains("given up") {
		t.Errorf("a gap was not filled:\n%s", logs)
	}
}

// markingSink records readings and their watermarks.
type markingSink struct {
	*recordSink
	marks *memMarks
}

func (s *markingSink) Append(ctx context.Context, rs []fb.Reading) error {
	s.marks.commit(rs)
	return s.recordSink.Append(ctx, rs)
}

// TestBackfillWithoutHistory: a server that keeps no history cannot fill
// the gap: it says so in its capabilities, the bridge sends it no
// HistoryRead (whose BadNotSupported gopcua would take for a lost
// connection), logs it once, and the live values flow; a backfill node
// whose item the server rejects does not hold up the session's start.
func TestBackfillWithoutHistory(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 1, Rate: 20})
	opts := testServer("nohist", sim.Endpoint, loadIDs(1)[0], "ns=1;s=no.such.node")
	for i := range opts.Nodes {
		opts.Nodes[i].Backfill = true
	}
	marks := &memMarks{marks: map[string]time.Time{opts.Nodes[0].Name: time.Now().Add(-time.Minute)}}
	opts.Watermarks = marks
	calls := &stateLog{}
	opts.OnState, opts.OnGapFilled = calls.onState, calls.onGapFilled
	sink, logs := &markingSink{recordSink: newRecordSink(), marks: marks}, &testenv.Logs{}
	c := newClient(t, testOptions(opts, sink, logs))
	runClient(t, c)
	sink.waitFor(t, 10*time.Second, "live values", func(rs []fb.Reading) bool { return len(rs) >= 10 })
	testenv.Wait(t, 5*time.Second, "the session told up", func() bool { return len(calls.get()) > 0 })
	if got := calls.get(); len(got) != 1 || got[0] != "up" {
		t.Errorf("calls %v, want up only: no gap was filled", got)
	}
	checkLoggedOnce(t, logs, "backfill not possible: the server keeps no history of the node; its gaps stay", "WARN")
	if logs.Contains("server down") {
		t.Errorf("the session was lost: a HistoryRead was sent to a server without history?\n%s", logs)
	}
	if n := len(ofClass(sink.snapshot(), opts.Nodes[0].Name, fb.ClassBackfill)); n != 0 {
		t.Errorf("%d values backfilled from a server without history", n)
	}
}
