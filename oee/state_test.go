package oee

import (
	"bytes"
	"encoding/gob"
	"testing"
	"time"

	fb "factorybridge"
)

// TestRestoreOlderState: a state saved before stops were kept (no Stop,
// a pending stop) restores with the stop open, so that it ends, is
// classified, and the records it holds back close.
func TestRestoreOlderState(t *testing.T) {
	opts := Options{Lines: []Line{{Name: "l", Stations: []Station{{
		Name: "s", Preset: PresetConnectedFactory, IdealCycleTime: time.Second, SmallStop: time.Minute,
		Roles: Roles{State: "l/s/Status", TotalCount: "l/s/Count"},
	}}}}}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 3, 4, 6, 59, 0, 0, time.UTC)
	obs := func(e *Engine, at time.Duration, v uint64) {
		r := fb.Reading{Name: "l/s/Status", SourceTime: t0.Add(at), Value: fb.UintValue(fb.TypeUInt64, v)}
		e.Observe(&r)
	}
	obs(e, 0, 1)
	obs(e, 50*time.Second, 4) // pending across 07:00
	e.Tick(t0.Add(55*time.Second), nil)
	state := olderState(t, e)
	fresh, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	obs(fresh, 80*time.Second, 1) // a 30-s stop: small
	r := find(t, fresh.Tick(t0.Add(2*time.Minute), nil), KindHour)
	if r.SmallStops != 1 || r.SmallStopS != 10 || r.Losses.SmallStop.Stops != 1 {
		t.Errorf("hour 06: small stops %d, %v s, losses %+v; want 1, 10 s", r.SmallStops, r.SmallStopS, r.Losses.SmallStop)
	}
}

// olderState is e's state with the fields a stop now keeps cleared.
func olderState(t *testing.T, e *Engine) []byte {
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var snap snapshot
	if err := gob.NewDecoder(bytes.NewReader(b[1:])).Decode(&snap); err != nil {
		t.Fatal(err)
	}
	snap.Lines[0].Stations[0].S.Stop = stopState{}
	var out bytes.Buffer
	out.WriteByte(stateVersion)
	if err := gob.NewEncoder(&out).Encode(&snap); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func find(t *testing.T, recs []Record, k Kind) Record {
	t.Helper()
	for _, r := range recs {
		if r.Kind == k && r.Station != "" {
			return r
		}
	}
	t.Fatalf("no %s record in %d", k, len(recs))
	return Record{}
}
