package oee

import (
	"testing"
	"time"

	fb "factorybridge"
)

// dropRig is one station counting one part every 2 s (ideal cycle 1 s) and
// a reject every 10 minutes, running for 30 minutes so that each counter
// has a rate, before a test makes its counters fall.
type dropRig struct {
	t   *testing.T
	e   *Engine
	now time.Time
	v   map[string]uint64
	k   int // parts made
}

func newDropRig(t *testing.T, roles Roles, start map[string]uint64) *dropRig {
	opts := Options{Lines: []Line{{Name: "l", Stations: []Station{{
		Name: "s", Preset: PresetConnectedFactory, IdealCycleTime: time.Second, Roles: roles,
		Counters: Counters{GoodCount: CounterUint16, TotalCount: CounterUint16, RejectCount: CounterUint16},
	}}}}}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &dropRig{t: t, e: e, now: time.Date(2024, 3, 4, 6, 0, 0, 0, time.UTC), v: start}
	r.read("Status", 1)
	for node, v := range start {
		r.read(node, v)
	}
	for i := 1; i <= 900; i++ {
		r.now = r.now.Add(2 * time.Second)
		r.step(roles)
	}
	return r
}

// step makes one part; the 150th, 450th, 750th … are rejects.
func (r *dropRig) step(roles Roles) {
	r.k++
	reject := r.k%300 == 150
	var parts []string
	switch {
	case roles.TotalCount != "" && reject:
		parts = []string{"Total"}
	case roles.TotalCount != "":
		parts = []string{"Good", "Total"}
	case reject:
		parts = []string{"Reject"}
	default:
		parts = []string{"Good"}
	}
	for _, n := range parts {
		r.v[n] = (r.v[n] + 1) & 0xffff
		r.read(n, r.v[n])
	}
}

func (r *dropRig) read(node string, v uint64) {
	rd := fb.Reading{Name: "l/s/" + node, SourceTime: r.now, Value: fb.UintValue(fb.TypeUInt64, v)}
	r.e.Observe(&rd)
}

// set writes counters at once, 10 s after the last part, then runs on for a minute.
func (r *dropRig) set(roles Roles, vals map[string]uint64) Record {
	r.now = r.now.Add(10 * time.Second)
	for n, v := range vals {
		r.v[n] = v
		r.read(n, v)
	}
	for i := 0; i < 30; i++ {
		r.now = r.now.Add(2 * time.Second)
		r.step(roles)
	}
	recs := r.e.Tick(r.now, nil)
	return recs[0] // rolling, station s
}

func TestDropEvidence(t *testing.T) {
	goodReject := Roles{State: "l/s/Status", GoodCount: "l/s/Good", RejectCount: "l/s/Reject"}
	goodTotal := Roles{State: "l/s/Status", GoodCount: "l/s/Good", TotalCount: "l/s/Total"}
	tests := []struct {
		name                  string
		roles                 Roles
		start, fall           map[string]uint64
		resets, wraps, ambig  int64
		wantGood, wantRejects int64 // over the rolling window
	}{
		// 897 good parts and 3 rejects (the last 310 s before the fall), the
		// fall, 30 good parts. A reject counter 3 below the top falling
		// alone fits its rate as a wrap: the engine is fooled (docs/oee.md
		// says so).
		{"lone reject near the top", goodReject, map[string]uint64{"Good": 100, "Reject": 65530},
			map[string]uint64{"Reject": 0}, 0, 1, 0, 927, 3 + 3},
		// With its sibling falling too, both were reset.
		{"reject with its sibling", goodReject, map[string]uint64{"Good": 100, "Reject": 65530},
			map[string]uint64{"Reject": 0, "Good": 0}, 2, 0, 0, 927, 3},
		// 85 rejects in 5 minutes against one in 10 minutes: a reset.
		{"lone reject far from the top", goodReject, map[string]uint64{"Good": 100, "Reject": 65448},
			map[string]uint64{"Reject": 0}, 1, 0, 0, 927, 3},
		// Good and total wrap together when there are few rejects: both
		// fit their rates (6 parts each, 65531 → 1 and 65534 → 4).
		{"good and total wrap together", goodTotal, map[string]uint64{"Good": 64634, "Total": 64634},
			map[string]uint64{"Good": 1, "Total": 4}, 0, 2, 0, 933, 3},
		// More good parts than the total counted since: a reset.
		{"good falls alone under total", goodTotal, map[string]uint64{"Good": 64000, "Total": 64000},
			map[string]uint64{"Good": 0}, 1, 0, 0, 927, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newDropRig(t, tt.roles, tt.start)
			got := r.set(tt.roles, tt.fall)
			if got.CounterResets != tt.resets || got.CounterWraps != tt.wraps || got.CounterAmbiguous != tt.ambig {
				t.Errorf("resets %d, wraps %d, ambiguous %d; want %d, %d, %d",
					got.CounterResets, got.CounterWraps, got.CounterAmbiguous, tt.resets, tt.wraps, tt.ambig)
			}
			if got.Good != tt.wantGood || got.Reject != tt.wantRejects {
				t.Errorf("good %d, rejects %d; want %d, %d", got.Good, got.Reject, tt.wantGood, tt.wantRejects)
			}
		})
	}
}
