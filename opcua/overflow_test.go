package opcua

import (
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"

	"github.com/gopcua/opcua/ua"
)

func TestOverflowed(t *testing.T) {
	for _, tt := range []struct {
		status ua.StatusCode
		want   bool
	}{
		{0, false},
		{0x00000480, true},                 // Good, InfoType DataValue, Overflow
		{0x00000400, false},                // DataValue info type, no overflow
		{0x00000080, false},                // bit 7 without the DataValue info type means nothing
		{0x00000880, false},                // reserved info type
		{ua.StatusUncertain | 0x480, true}, // Uncertain, overflowed
		{ua.StatusBadNodeIDUnknown, false},
	} {
		if got := overflowed(tt.status); got != tt.want {
			t.Errorf("overflowed(0x%08X) = %v, want %v", uint32(tt.status), got, tt.want)
		}
	}
}

// TestQueueOverflowCounted subscribes to counters that change 50 times a
// second, two with a queue of 2 and a publishing interval of 500 ms (the
// server must discard values) and two with a queue that holds 20 s. The
// oracle is the counters themselves: a value that is not its predecessor
// + 1 follows values the server discarded, and the server flags the value
// after a discard (discard oldest: Part 4 v1.05, 5.13.1.5), so the bridge's
// count equals the gaps seen, the roomy queues have neither, and one
// warning says so.
func TestQueueOverflowCounted(t *testing.T) {
	const rate = 50
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 4, Rate: rate})
	sink, logs := newRecordSink(), &testenv.Logs{}
	opts := testOptions(testServer("load", sim.Endpoint, loadIDs(4)...), sink, logs)
	for i := range opts.Nodes {
		opts.Nodes[i].SamplingInterval = 0
		opts.Nodes[i].PublishingInterval = 500 * time.Millisecond
		opts.Nodes[i].QueueSize = 1000
		if i < 2 {
			opts.Nodes[i].QueueSize = 2
		}
	}
	c := newClient(t, opts)
	stop := runClient(t, c)
	sink.waitFor(t, 15*time.Second, "3 s of values of every node", func(rs []fb.Reading) bool {
		last := lastValues(rs)
		first := map[string]uint64{}
		for _, r := range rs {
			if _, ok := first[r.Name]; !ok {
				first[r.Name] = r.Value.Uint()
			}
		}
		for name, v := range last {
			if v < first[name]+3*rate {
				return false
			}
		}
		return len(last) == 4
	})
	stop() // what the sink holds and what Stats counted now stay put
	flagged := c.Stats().QueueOverflows
	gaps := 0
	for i, id := range loadIDs(4) {
		rs := sink.byName()["line/station/"+id]
		nodeGaps, nodeFlags := 0, 0
		for k := range rs {
			if overflowed(ua.StatusCode(rs[k].Status)) {
				nodeFlags++
			}
			if k > 0 && rs[k].Value.Uint() != rs[k-1].Value.Uint()+1 {
				nodeGaps++
				if !overflowed(ua.StatusCode(rs[k].Status)) {
					t.Errorf("%s: value %d after %d (values discarded) without the Overflow bit: status 0x%08X",
						id, rs[k].Value.Uint(), rs[k-1].Value.Uint(), rs[k].Status)
				}
			}
		}
		switch {
		case i < 2 && nodeGaps == 0:
			t.Errorf("%s (queue 2, 25 changes per publish): no gap in %d values: the test does not overflow", id, len(rs))
		case i >= 2 && (nodeGaps > 0 || nodeFlags > 0):
			t.Errorf("%s (queue 1000): %d gaps, %d flagged values, want none", id, nodeGaps, nodeFlags)
		}
		gaps += nodeGaps
	}
	// The first value of a session may carry a flag for values discarded
	// before it (no predecessor to see the gap by), hence the +2.
	t.Logf("%d gaps, %d values flagged", gaps, flagged)
	if flagged < uint64(gaps) || flagged > uint64(gaps)+2 {
		t.Errorf("Stats.QueueOverflows = %d, want the %d gaps the counters show (+ at most a flagged first value per node)", flagged, gaps)
	}
	if n := logs.Count("server queue overflowed"); n != 1 {
		t.Errorf("%d overflow warnings in %v, want 1 (at most one a minute):\n%s", n, 3*time.Second, logs)
	}
	recs := logs.Records("server queue overflowed: the server discarded values before sending them")
	if len(recs) == 1 && recs[0]["first_node"] != "line/station/"+loadIDs(4)[0] && recs[0]["first_node"] != "line/station/"+loadIDs(4)[1] {
		t.Errorf("warning names %v, want a node with queue 2", recs[0]["first_node"])
	}
}
