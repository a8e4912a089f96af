package demo

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)

// runLine advances a line from t0 to t0+wall (wall-clock time) in irregular
// steps drawn from stepSeed and returns every change.
func runLine(seed int64, speed float64, wall time.Duration, stepSeed uint64) []Change {
	l := NewLine(seed, speed)
	rng := rand.New(rand.NewPCG(stepSeed, 0))
	changes := l.Advance(t0)
	for at := t0; at.Before(t0.Add(wall)); {
		at = at.Add(time.Duration(1+rng.Int64N(500)) * time.Millisecond)
		changes = append(changes, l.Advance(at)...)
	}
	return changes
}

func TestLineDeterministic(t *testing.T) {
	a := runLine(42, 5, 10*time.Minute, 1)
	b := runLine(42, 5, 10*time.Minute, 1)
	if len(a) < 100 {
		t.Fatalf("got %d changes in 10 min at speed 5, want a busy line", len(a))
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed and times gave different changes")
	}
	if c := runLine(43, 5, 10*time.Minute, 1); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave identical changes")
	}
}

// Events happen at their own simulated instants, so how the caller slices
// time must not change what happens.
func TestLineIndependentOfStepSize(t *testing.T) {
	fine := runLine(7, 5, 10*time.Minute, 1)
	l := NewLine(7, 5)
	coarse := l.Advance(t0)
	end := fine[len(fine)-1].Time
	coarse = append(coarse, l.Advance(end)...)
	if !reflect.DeepEqual(fine, coarse) {
		t.Fatalf("one big step gave %d changes, small steps %d (or different ones)", len(coarse), len(fine))
	}
}

func TestLineInvariants(t *testing.T) {
	changes := runLine(1, 50, 10*time.Minute, 2)
	last := map[string]uint64{}
	for _, c := range changes {
		key := c.Station + "." + c.Variable
		switch c.Variable {
		case VarStatus:
			if s := c.Value.(int32); s < 0 || s > 4 {
				t.Fatalf("%s = %d, want 0..4", key, s)
			}
		case VarManufactured, VarDiscarded, VarFaultyTime, VarSerial:
			v := c.Value.(uint64)
			if v < last[key] {
				t.Fatalf("%s went from %d to %d at %v", key, last[key], v, c.Time)
			}
			last[key] = v
		}
	}
}

func TestLineTypesMatchSnapshot(t *testing.T) {
	l := NewLine(1, 50)
	want := map[string]reflect.Type{}
	for _, c := range l.Snapshot() {
		want[c.Station+"."+c.Variable] = reflect.TypeOf(c.Value)
	}
	if len(want) != 25 {
		t.Fatalf("snapshot has %d variables, want 25 (8 per station + Pressure)", len(want))
	}
	l.Advance(t0)
	for _, c := range l.Advance(t0.Add(10 * time.Minute)) {
		key := c.Station + "." + c.Variable
		if got := reflect.TypeOf(c.Value); got != want[key] {
			t.Fatalf("%s changed as %v, snapshot says %v", key, got, want[key])
		}
	}
}

func TestLineFaultsAddToFaultyTime(t *testing.T) {
	const speed = 50
	changes := runLine(3, speed, 30*time.Minute, 3)
	faultStart := map[string]time.Time{}
	faulty := map[string]uint64{}
	resets := 0
	for _, c := range changes {
		switch {
		case c.Variable == VarStatus && c.Value.(int32) == int32(StatusFault):
			faultStart[c.Station] = c.Time
		case c.Variable == VarFaultyTime:
			start, ok := faultStart[c.Station]
			if !ok {
				t.Fatalf("%s FaultyTime changed at %v without a fault", c.Station, c.Time)
			}
			// FaultyTime is in wall-clock ms, like the timestamps.
			delta := time.Duration(c.Value.(uint64)-faulty[c.Station]) * time.Millisecond
			lasted := c.Time.Sub(start)
			if d := delta - lasted; d < -2*time.Millisecond || d > 2*time.Millisecond {
				t.Fatalf("%s FaultyTime grew by %v for a fault of %v", c.Station, delta, lasted)
			}
			if sim := lasted * speed; sim < faultMin-time.Second || sim > faultMax+time.Second {
				t.Fatalf("%s fault of %v simulated, want %v..%v", c.Station, sim, faultMin, faultMax)
			}
			faulty[c.Station] = c.Value.(uint64)
			delete(faultStart, c.Station)
			resets++
		}
	}
	if resets == 0 {
		t.Fatal("no fault was reset in 25 simulated hours")
	}
}

// Over tens of thousands of cycles the binomial standard deviation of the
// shares is about 0.15 percentage points, so ±1 point cannot fail by chance
// but catches a model that discards or faults at the wrong rate.
func TestLineRates(t *testing.T) {
	l := NewLine(11, 1)
	l.Advance(t0)
	changes := l.Advance(t0.Add(45 * time.Hour))
	var cycles, faults int
	for _, c := range changes {
		if c.Variable == VarActualCycle {
			cycles++
		}
		if c.Variable == VarStatus && c.Value.(int32) == int32(StatusFault) {
			faults++
		}
	}
	var good, bad uint64
	for _, st := range l.stations {
		good, bad = good+st.good, bad+st.bad
	}
	if cycles < 20000 || uint64(cycles) != good+bad {
		t.Fatalf("%d cycles ended, counters say %d good + %d bad; want ≥ 20000 and equal", cycles, good, bad)
	}
	if share := float64(bad) / float64(good+bad); share < 0.04 || share > 0.06 {
		t.Errorf("discarded share %.4f, want 0.05 ± 0.01", share)
	}
	if share := float64(faults) / float64(cycles); share < 0.02 || share > 0.04 {
		t.Errorf("fault share %.4f, want 0.03 ± 0.01", share)
	}
}

// A part reaches a station only after the one before finished it good.
func TestLineSerialFlow(t *testing.T) {
	l := NewLine(5, 1)
	l.Advance(t0)
	changes := l.Advance(t0.Add(24 * time.Hour))
	finished := map[string]map[uint64]bool{} // station → good serials
	serial := map[string]uint64{}
	prev := map[string]string{StationTest: StationAssembly, StationPackaging: StationTest}
	for _, c := range changes {
		switch {
		case c.Variable == VarSerial:
			serial[c.Station] = c.Value.(uint64)
			if up := prev[c.Station]; up != "" && !finished[up][serial[c.Station]] {
				t.Fatalf("%s started part %d that %s did not finish good", c.Station, serial[c.Station], up)
			}
		case c.Variable == VarStatus && c.Value.(int32) == int32(StatusDone):
			if finished[c.Station] == nil {
				finished[c.Station] = map[uint64]bool{}
			}
			finished[c.Station][serial[c.Station]] = true
		}
	}
	a, te, p := l.stations[0], l.stations[1], l.stations[2]
	if !(a.good >= te.good+te.bad && te.good >= p.good+p.bad && p.good > 0) {
		t.Fatalf("flow: assembly %d good, test %d+%d, packaging %d+%d", a.good, te.good, te.bad, p.good, p.bad)
	}
}

func TestLineTimeNeverGoesBack(t *testing.T) {
	l := NewLine(9, 5)
	l.Advance(t0)
	first := l.Advance(t0.Add(time.Minute))
	if got := l.Advance(t0.Add(30 * time.Second)); len(got) != 0 {
		t.Fatalf("going back in time produced %d changes", len(got))
	}
	for _, c := range first {
		if c.Time.Before(t0) || c.Time.After(t0.Add(time.Minute)) {
			t.Fatalf("change at %v outside the advanced interval", c.Time)
		}
	}
}
