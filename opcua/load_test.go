package opcua

import (
	"fmt"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

const loadNS = "nsu=urn:factorybridge:load;s=load."

func loadIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%d", loadNS, i)
	}
	return ids
}

// TestLoadEveryValueInOrder subscribes to counters that change 500 times a
// second each and checks that every value of every node arrives, in order,
// with no gap and no duplicate.
func TestLoadEveryValueInOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const nodes, rate, seconds = 20, 500, 3
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: rate})
	sink, logs := newRecordSink(), &testenv.Logs{}
	opts := testOptions(testServer("load", sim.Endpoint, loadIDs(nodes)...), sink, logs)
	for i := range opts.Nodes {
		opts.Nodes[i].QueueSize = 10000    // 20 s of changes: no overflow even if the publish loop stalls
		opts.Nodes[i].SamplingInterval = 0 // every write is a sample
	}
	c := newClient(t, opts)
	began := time.Now()
	runClient(t, c)

	var first map[string]uint64
	sink.waitFor(t, 10*time.Second, "first values", func(rs []fb.Reading) bool {
		first = lastValues(rs)
		return len(first) == nodes
	})
	target := maxOf(first) + rate*seconds
	sink.waitFor(t, (seconds+10)*time.Second, fmt.Sprintf("every node to reach %d", target), func(rs []fb.Reading) bool {
		last := lastValues(rs)
		return len(last) == nodes && minOf(last) >= target
	})
	elapsed := time.Since(began)
	total := 0
	for name, rs := range sink.byName() {
		checkConsecutive(t, name, rs)
		total += len(rs)
	}
	s := c.Stats()
	t.Logf("%d readings in %s (%.0f/s), %d notifications, %.0f readings per notification",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(),
		s.Notifications, float64(s.Readings)/float64(s.Notifications))
}

// checkConsecutive checks that a counter's readings step by exactly 1.
func checkConsecutive(t *testing.T, name string, rs []fb.Reading) {
	t.Helper()
	for i := 1; i < len(rs); i++ {
		if prev, cur := rs[i-1].Value.Uint(), rs[i].Value.Uint(); cur != prev+1 {
			t.Errorf("%s: value %d followed by %d (reading %d of %d)", name, prev, cur, i, len(rs))
			return
		}
		if rs[i].Value.Type != fb.TypeUInt64 || rs[i].SourceTime.Before(rs[i-1].SourceTime) {
			t.Errorf("%s: reading %d: type %s, source time %v after %v", name, i, rs[i].Value.Type,
				rs[i].SourceTime, rs[i-1].SourceTime)
			return
		}
	}
}

func lastValues(rs []fb.Reading) map[string]uint64 {
	m := map[string]uint64{}
	for _, r := range rs {
		m[r.Name] = r.Value.Uint()
	}
	return m
}

func maxOf(m map[string]uint64) (v uint64) {
	for _, x := range m {
		v = max(v, x)
	}
	return v
}

func minOf(m map[string]uint64) uint64 {
	v := ^uint64(0)
	for _, x := range m {
		v = min(v, x)
	}
	return v
}
