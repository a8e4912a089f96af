package oee_test

import (
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
)

const faultConfig = `
[[lines]]
name = "l"
[[lines.stations]]
name = "s"
nodes = [{ name = "Count", id = "i=1" }, { name = "FaultyTime", id = "i=2" }]
[lines.stations.oee]
ideal_cycle_time = "2s"
time_unit = "ms"
roles = { total_count = "Count", fault_time = "FaultyTime" }
`

// TestFaultTimeAndRolling: a station without a state node runs whenever
// connected; a FaultyTime increase of 5 min is carved out of the run time
// before it. The rolling window at 11:30 covers 10:30–11:30.
func TestFaultTimeAndRolling(t *testing.T) {
	e := newEngine(t, parseConfig(t, faultConfig))
	t0 := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	obs := func(node string, at time.Duration, v uint64) {
		r := reading("l", "s", node, t0.Add(at), fb.UintValue(fb.TypeUInt64, v))
		e.Observe(&r)
	}
	obs("Count", 0, 0)
	obs("FaultyTime", 0, 1000)
	for m := 1; m <= 90; m++ {
		obs("Count", time.Duration(m)*time.Minute, uint64(m*15))
		if m == 80 {
			obs("FaultyTime", 80*time.Minute, 1000+5*60*1000)
		}
	}
	recs := e.Tick(t0.Add(90*time.Minute), nil)
	r := find(t, recs, oee.KindRolling, "s")
	if r.Start != t0.Add(30*time.Minute) || r.End != t0.Add(90*time.Minute) {
		t.Errorf("rolling window %v – %v", r.Start, r.End)
	}
	if r.RunS != 60*60-300 || r.UnplannedStopS != 300 || r.Stops != 1 {
		t.Errorf("run %v s, unplanned %v s, stops %d; want 3300, 300, 1", r.RunS, r.UnplannedStopS, r.Stops)
	}
	if b := r.Losses.Breakdown; b.S != 300 || b.Stops != 1 || len(r.Reasons) != 1 || r.Reasons[0].Code != "" {
		t.Errorf("losses %+v, reasons %+v; want one 300-s breakdown without a code", b, r.Reasons)
	}
	if got, want := pct(r.Availability), "91.67"; got != want {
		t.Errorf("availability %s %%, want %s", got, want)
	}
	if r.Total != 60*15 {
		t.Errorf("total %d, want %d", r.Total, 60*15)
	}
}
