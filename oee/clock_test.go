package oee_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
)

// TestRecordsOnTheBridgeClock: a PLC two hours ahead whose clock is set
// forward by another hour at 10:40. Its readings carry their source
// timestamps as the PLC sent them and their bridge times on the real
// clock: the records follow the bridge time, so the hour holds exactly 60
// minutes of run time and every part, and the records of the step's
// moment say a clock stepped.
func TestRecordsOnTheBridgeClock(t *testing.T) {
	e := newEngine(t, parseConfig(t, faultConfig))
	t0 := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	skew := 2 * time.Hour
	for m := 0; m <= 60; m++ {
		at := t0.Add(time.Duration(m) * time.Minute)
		if m == 40 {
			skew += time.Hour
			e.ServerClockStep("plc", at)
		}
		r := reading("l", "s", "Count", at.Add(skew), fb.UintValue(fb.TypeUInt64, uint64(m*15)))
		r.BridgeTime = at
		e.Observe(&r)
	}
	recs := e.Tick(t0.Add(time.Hour), nil)
	h := find(t, closed(recs), oee.KindHour, "s")
	if h.Start != t0 || h.RunS != 3600 || h.Total != 59*15 || h.ClockSteps != 1 {
		t.Errorf("hour record from %v: run %v s, total %d, clock steps %d; want 10:00, 3600 s, 885 (the part of 11:00 is the next hour's), 1",
			h.Start, h.RunS, h.Total, h.ClockSteps)
	}
	if l := find(t, closed(recs), oee.KindHour, ""); l.ClockSteps != 1 {
		t.Errorf("line record: %d clock steps, want 1", l.ClockSteps)
	}
	var j struct {
		ClockSteps int64    `json:"clock_steps"`
		Flags      []string `json:"flags"`
	}
	b, _ := h.MarshalJSON()
	if err := json.Unmarshal(b, &j); err != nil || j.ClockSteps != 1 || !slices.Contains(j.Flags, "clock_step") {
		t.Errorf("JSON %s: want clock_steps 1 and the clock_step flag", b)
	}
	if r := find(t, recs, oee.KindRolling, "s"); r.ClockSteps != 1 {
		t.Errorf("rolling record: %d clock steps, want 1", r.ClockSteps)
	}
}
