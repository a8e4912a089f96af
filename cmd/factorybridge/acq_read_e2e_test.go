package main

import (
	"fmt"
	"math"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
)

// TestCyclicReadE2E reads a server that refuses subscriptions, in Read
// requests of at most its MaxNodesPerRead nodes: a reading per node and
// cycle; only changes on a node that asks for them, every value once and in
// order (the reads are faster than the changes); and only changes beyond
// an absolute deadband on another.
func TestCyclicReadE2E(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 3, Rate: 4, NoSubscriptions: true, MaxNodesPerRead: 2})
	broker := testenv.StartMosquitto(t)
	cons := consumer.Start(t, broker.URL, consumer.Options{Topic: "fb/read/#"})
	const every = 100 * time.Millisecond
	cfg := acqHead(t, "read", broker.URL) + fmt.Sprintf(`
[[servers]]
name = "sim"
endpoint = %q
mode = "read"
read_interval = %q

[[lines]]
name = "line"

[[lines.stations]]
name = "counters"
nodes = [
  { name = "cycle", id = "%s0" },
  { name = "change", id = "%s1", read_report = "change" },
  { name = "deadband", id = "%s2", read_report = "change", deadband = "absolute", deadband_value = 2.0 },
]
`, sim.Endpoint, every, simLoad, simLoad, simLoad)
	br := testenv.StartBridge(t, writeConfig(t, cfg))
	cycle, change, deadband := "line/counters/cycle", "line/counters/change", "line/counters/deadband"
	testenv.Wait(t, 30*time.Second, "40 changes", func() bool { return cons.Count(change) >= 40 })
	started := br.Entries("monitored items")
	lastSeq := br.StopDrained(t)
	if n, errs := cons.Errors(); n > 0 {
		t.Fatalf("%d bad readings: %v", n, errs)
	}
	checkDense(t, lastSeq, 0, cons.Seqs)
	if len(started) != 1 || started[0].Num("items_ok") != 3 || started[0].Num("subscriptions") != 0 {
		t.Errorf("sessions %v: want one, 3 items read, no subscription", started)
	}
	if br.Entries("server down") != nil {
		t.Errorf("the session failed:\n%s", br.LogTail())
	}
	// Every cycle a reading of the cycle node: about 2.5 per value at 4/s.
	values := cons.Samples(change)[len(cons.Samples(change))-1].Value - cons.Samples(change)[0].Value + 1
	if n := uint64(cons.Count(cycle)); n < 2*values || n > 3*values+5 {
		t.Errorf("%d readings of the cycle node over %d values, want 2.5 per value (a read every 100 ms, 4 changes/s)", n, values)
	}
	if a := cons.Analyze([]string{change}, nil); a.Lost > 0 || a.Dups > 0 || a.Reorders > 0 {
		t.Errorf("changes only: want every value once and in order: %v", a)
	}
	s := cons.Samples(deadband)
	for i := 1; i < len(s); i++ {
		if math.Abs(float64(s[i].Value)-float64(s[i-1].Value)) <= 2 {
			t.Errorf("deadband node reported %d after %d", s[i].Value, s[i-1].Value)
		}
	}
	if len(s) < 10 {
		t.Errorf("deadband node reported %d changes, want about a third of %d", len(s), values)
	}
	t.Logf("%d values: %d cyclic readings, %d changes beyond the deadband", values, cons.Count(cycle), len(s))
}
