package opcua

import (
	"math"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// TestCyclicReadWithoutSubscriptions reads nodes of a server that refuses
// subscriptions, in Read requests of at most its MaxNodesPerRead nodes: a
// reading per node and cycle, or only changes beyond the deadband.
func TestCyclicReadWithoutSubscriptions(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 4, Rate: 10, NoSubscriptions: true, MaxNodesPerRead: 3})
	opts := testServer("read", sim.Endpoint, append(loadIDs(4), typesNS+"Int32", typesNS+"NotReadable")...)
	const every = 100 * time.Millisecond
	for i := range opts.Nodes {
		opts.Nodes[i].Mode, opts.Nodes[i].ReadInterval = ModeRead, every
	}
	changes := &opts.Nodes[1] // load.1: only changes of more than 2.5
	changes.ReadReport, changes.Deadband, changes.DeadbandValue = ReportChange, "absolute", 2.5
	constant := &opts.Nodes[4]
	constant.ReadReport = ReportChange
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := newClient(t, testOptions(opts, sink, logs))
	runClient(t, c)
	sink.waitFor(t, 10*time.Second, "20 cycles", func(rs []fb.Reading) bool { return len(ofClass(rs, opts.Nodes[0].Name, fb.ClassReading)) >= 20 })
	rs := sink.snapshot()
	cycles := len(ofClass(rs, opts.Nodes[0].Name, fb.ClassReading))
	st := c.Stats()
	// 6 nodes in chunks of 3: two Read requests per cycle.
	if st.Reads < uint64(2*cycles-1) || st.Reads > uint64(2*cycles+2) {
		t.Errorf("%d Read requests for %d cycles, want 2 per cycle (6 nodes, MaxNodesPerRead 3)", st.Reads, cycles)
	}
	if st.ItemsOK != 5 || st.ItemsFailed != 1 {
		t.Errorf("items ok %d failed %d, want 5 and 1 (types.NotReadable)", st.ItemsOK, st.ItemsFailed)
	}
	for _, n := range []int{2, 3, 5} {
		if got := len(ofClass(rs, opts.Nodes[n].Name, fb.ClassReading)); got < cycles-2 || got > cycles+2 {
			t.Errorf("%s: %d readings in %d cycles, want one per cycle", opts.Nodes[n].Name, got, cycles)
		}
	}
	if got := len(ofClass(rs, constant.Name, fb.ClassReading)); got != 1 {
		t.Errorf("constant node reported on change: %d readings, want 1", got)
	}
	ch := ofClass(rs, changes.Name, fb.ClassReading)
	for i := 1; i < len(ch); i++ {
		if d := math.Abs(float64(ch[i].Value.Uint()) - float64(ch[i-1].Value.Uint())); d <= 2.5 {
			t.Errorf("load.1 reported %d after %d: within the deadband", ch[i].Value.Uint(), ch[i-1].Value.Uint())
		}
	}
	if len(ch) < 3 {
		t.Errorf("load.1 reported %d changes in %d cycles, want several", len(ch), cycles)
	}
	if logs.Contains("create subscription") {
		t.Errorf("a read-only client tried to subscribe:\n%s", logs)
	}
	t.Logf("%d cycles, %d Read requests, %d changes of load.1 beyond 2.5", cycles, st.Reads, len(ch))
}
