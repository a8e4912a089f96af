package oee_test

import (
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
)

const workedConfig = `
[[lines]]
name = "l"
[lines.oee]
zone = "UTC"
shifts = [{ name = "early", start = "06:00", end = "14:00" }]
breaks = [
  { start = "08:00", end = "08:15" },
  { start = "10:00", end = "10:30" },
  { start = "12:00", end = "12:15" },
]
[[lines.stations]]
name = "s"
nodes = [
  { name = "Status", id = "ns=2;s=Status" },
  { name = "Total", id = "ns=2;s=Total" },
  { name = "Reject", id = "ns=2;s=Reject" },
]
[lines.stations.oee]
preset = "connected-factory"
ideal_cycle_time = "1s"
roles = { state = "Status", total_count = "Total", reject_count = "Reject" }
`

// TestWorkedExample is oee.com's example: an 8 h shift with 60 min of
// breaks, 47 min down, ideal cycle 1.0 s, 19,271 parts of which 423 rejects.
func TestWorkedExample(t *testing.T) {
	e := newEngine(t, parseConfig(t, workedConfig))
	start := time.Date(2024, 3, 4, 6, 0, 0, 0, time.UTC)
	var runMinutes []time.Time
	for m := start; m.Before(start.Add(8 * time.Hour)); m = m.Add(time.Minute) {
		hm := m.Hour()*60 + m.Minute()
		inBreak := hm >= 8*60 && hm < 8*60+15 || hm >= 10*60 && hm < 10*60+30 || hm >= 12*60 && hm < 12*60+15
		down := hm >= 9*60 && hm < 9*60+47
		if !inBreak && !down {
			runMinutes = append(runMinutes, m)
		}
	}
	feed := func(node string, at time.Time, v uint64) {
		r := reading("l", "s", node, at, fb.UintValue(fb.TypeUInt64, v))
		e.Observe(&r)
	}
	feed("Status", start, 1)
	feed("Total", start, 0)
	feed("Reject", start, 0)
	for i, m := range runMinutes {
		if m.Equal(start.Add(3*time.Hour + 47*time.Minute)) {
			feed("Status", start.Add(3*time.Hour), 4) // a 47-minute fault, in time order
			feed("Status", m, 1)
		}
		n := uint64(len(runMinutes))
		end := m.Add(59 * time.Second)
		feed("Total", end, 19271*uint64(i+1)/n)
		feed("Reject", end, 423*uint64(i+1)/n)
	}
	recs := e.Tick(start.Add(8*time.Hour), nil)
	r := find(t, recs, oee.KindShift, "s")
	if len(runMinutes) != 373 {
		t.Fatalf("%d run minutes, want 373", len(runMinutes))
	}
	for _, c := range []struct {
		name string
		got  oee.Ratio
		want string
	}{
		{"availability", r.Availability, "88.81"}, {"performance", r.Performance, "86.11"},
		{"quality", r.Quality, "97.80"}, {"oee", r.OEE, "74.79"},
	} {
		if got := pct(c.got); got != c.want {
			t.Errorf("%s = %s %%, want %s %%", c.name, got, c.want)
		}
	}
	if r.PlannedS != 420*60 || r.UnplannedStopS != 47*60 || r.Stops != 1 {
		t.Errorf("planned %v s, unplanned %v s, stops %d", r.PlannedS, r.UnplannedStopS, r.Stops)
	}
}
