package runner

import (
	"testing"
	"time"

	fb "factorybridge"
)

// skewed is rd from a PLC whose clock is off by skew, its bridge time on
// the real clock.
func skewed(station, node string, at, skew time.Duration, v uint64) fb.Reading {
	r := rd(station, node, at+skew, v)
	r.BridgeTime = t0.Add(at)
	return r
}

// TestHoldByBridgeTime: readings are held and fed by their bridge time,
// not by the PLC's source timestamps two hours ahead, so the records sit
// on the bridge's clock and a count comes when its real time is due.
func TestHoldByBridgeTime(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	h.clock.set(t0.Add(time.Minute))
	const skew = 2 * time.Hour
	store.commit(skewed("a", "Status", 0, skew, 1), skewed("a", "Count", 0, skew, 0),
		skewed("a", "Count", 30*time.Second, skew, 10), skewed("a", "Count", 70*time.Second, skew, 20))
	h.step(60 * time.Second)
	r := h.rolling("a")
	if r.Total != 10 || r.RunS != 60 || !r.End.Equal(t0.Add(time.Minute)) {
		t.Errorf("rolling record to %v: total %d, run %v s; want 10 parts and 60 s to t0+1min", r.End, r.Total, r.RunS)
	}
}

// TestAheadCountsNow: with clock_correction off, a PLC two hours ahead
// sends readings from the future. They count at the bridge's time (not two
// hours later), and that is logged once per server.
func TestAheadCountsNow(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	h.clock.set(t0)
	store.commit(rd("a", "Status", 2*time.Hour, 1), rd("a", "Count", 2*time.Hour, 0))
	h.take(1 << 20)
	h.clock.set(t0.Add(30 * time.Second))
	store.commit(rd("a", "Count", 2*time.Hour+30*time.Second, 15))
	h.step(30 * time.Second)
	if r := h.rolling("a"); r.Total != 15 || r.RunS != 30 {
		t.Errorf("total %d, run %v s at t0+30s; want 15, 30", r.Total, r.RunS)
	}
	const msg = "oee: readings from ahead of the bridge's clock count at the bridge's time; is the server's clock_correction off?"
	if n := len(h.logs.Records(msg)); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, h.logs)
	}
}

// TestClockStepFlagsRecords: a step of a server's clock flags the records
// of its stations at that moment, and only theirs.
func TestClockStepFlagsRecords(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1), rd("b", "Status", 0, 1))
	h.r.OnClockStep("plc1", time.Hour, t0.Add(20*time.Second))
	store.commit(rd("a", "Status", 40*time.Second, 1))
	h.step(60 * time.Second)
	if a, b := h.rolling("a"), h.rolling("b"); a.ClockSteps != 1 || b.ClockSteps != 0 {
		t.Errorf("clock steps: a %d, b %d; want 1 (plc1's), 0", a.ClockSteps, b.ClockSteps)
	}
	if !h.logs.Contains("oee: server clock stepped") {
		t.Errorf("the step is not logged:\n%s", h.logs)
	}
}
