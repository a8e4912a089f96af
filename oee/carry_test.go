package oee_test

import (
	"errors"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
)

// carryPlant is line l with stations of the names given, each with a
// Connected Factory status, a total count and an ideal cycle of a second.
func carryPlant(names ...string) oee.Options {
	var sts []oee.Station
	for _, n := range names {
		sts = append(sts, oee.Station{Name: n, Server: "plc", Preset: oee.PresetConnectedFactory, IdealCycleTime: time.Second,
			Roles: oee.Roles{State: "l/" + n + "/Status", TotalCount: "l/" + n + "/Count"}})
	}
	return oee.Options{Lines: []oee.Line{{Name: "l", Stations: sts}}}
}

// TestUnmarshalStations: a reconfigured engine keeps station a's time,
// parts and its share of the open hour and shift, moved to a's new place
// in the line; b, whose ideal cycle time changed, and c, new, start from
// nothing.
func TestUnmarshalStations(t *testing.T) {
	t0 := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	obs := func(e *oee.Engine, st, node string, at time.Duration, v uint64) {
		r := reading("l", st, node, t0.Add(at), fb.UintValue(fb.TypeUInt64, v))
		e.Observe(&r)
	}
	old := newEngine(t, carryPlant("a", "b"))
	for _, st := range []string{"a", "b"} {
		obs(old, st, "Status", 0, 1)
		obs(old, st, "Count", 0, 0)
		obs(old, st, "Count", 30*time.Second, 30)
	}
	old.Tick(t0.Add(time.Minute), nil)
	state, err := old.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	opts := carryPlant("c", "a", "b")
	opts.Lines[0].Stations[2].IdealCycleTime = 2 * time.Second
	e := newEngine(t, opts)
	if err := e.UnmarshalStations(state, [][2]string{{"l", "a"}}); err != nil {
		t.Fatal(err)
	}
	obs(e, "a", "Count", 90*time.Second, 60)
	obs(e, "b", "Status", time.Minute, 1)
	obs(e, "b", "Count", time.Minute, 100) // a first reading: the counter's base
	obs(e, "b", "Count", 90*time.Second, 110)
	recs := e.Tick(t0.Add(2*time.Minute), nil)
	for _, c := range []struct {
		kind    oee.Kind
		station string
		total   int64
		run     float64
	}{
		{oee.KindRolling, "a", 60, 120}, {oee.KindShiftToDate, "a", 60, 120},
		{oee.KindRolling, "b", 10, 60}, {oee.KindShiftToDate, "b", 10, 60},
		{oee.KindRolling, "c", 0, 0}, {oee.KindShiftToDate, "c", 0, 0},
	} {
		if r := find(t, recs, c.kind, c.station); r.Total != c.total || r.RunS != c.run {
			t.Errorf("%s %s: total %d, run %v s; want %d, %v s", c.kind, c.station, r.Total, r.RunS, c.total, c.run)
		}
	}
	hour := e.Tick(t0.Add(time.Hour), nil)
	for _, c := range []struct {
		station      string
		total        int64
		run, unknown float64
	}{{"a", 60, 3600, 0}, {"b", 10, 3540, 0}, {"c", 0, 0, 3480}} {
		r := find(t, hour, oee.KindHour, c.station)
		if r.Total != c.total || r.RunS != c.run || r.UnknownS != c.unknown {
			t.Errorf("hour %s: total %d, run %v s, unknown %v s; want %d, %v, %v",
				c.station, r.Total, r.RunS, r.UnknownS, c.total, c.run, c.unknown)
		}
	}
}

// TestUnmarshalStationsMissing: a station to keep must be in both the
// saved state and the engine.
func TestUnmarshalStationsMissing(t *testing.T) {
	state, err := newEngine(t, carryPlant("a", "b")).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range [][2]string{{"l", "b"}, {"l", "x"}, {"m", "a"}} {
		e := newEngine(t, carryPlant("a"))
		if err := e.UnmarshalStations(state, [][2]string{keep}); !errors.Is(err, oee.ErrIncompatibleState) {
			t.Errorf("keep %v: %v, want ErrIncompatibleState", keep, err)
		}
	}
	if err := newEngine(t, carryPlant("a")).UnmarshalStations([]byte{9}, nil); !errors.Is(err, oee.ErrIncompatibleState) {
		t.Errorf("unknown version: %v, want ErrIncompatibleState", err)
	}
}
