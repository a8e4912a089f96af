package runner

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/oee"
)

const (
	msgSaveFailed = "oee: saving state failed; records are kept and the save retried"
	msgSaveOK     = "oee: saving state succeeds again"
	msgRestored   = "oee: state restored; the time since is unknown until the servers are back"
	msgStops      = "oee: server data stops; station time is unknown until it resumes"
)

func TestNew(t *testing.T) {
	store := newFakeStore()
	if _, err := New(Options{Store: store}); !errors.Is(err, ErrNoStations) {
		t.Errorf("New without stations = %v, want ErrNoStations", err)
	}
	if _, err := New(Options{Engine: plant()}); err == nil {
		t.Error("New without a store succeeded")
	}
	bad := plant()
	bad.Lines[0].Output = "nowhere"
	if _, err := New(Options{Engine: bad, Store: store}); err == nil || errors.Is(err, ErrNoStations) {
		t.Errorf("New with a bad engine option = %v, want the engine's error", err)
	}
	r, err := New(Options{Engine: plant(), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Lines(); !slices.Equal(got, []string{"l"}) {
		t.Errorf("Lines() = %q", got)
	}
	if _, ok := r.Latest("l"); ok || len(r.Current()) != 0 {
		t.Error("records before the first checkpoint")
	}
}

func TestLag(t *testing.T) {
	if got, want := Lag(2*time.Second, time.Second), 3*time.Second+LagMargin; got != want {
		t.Errorf("Lag = %s, want %s", got, want)
	}
}

// TestHoldReleasesInTimeOrder: readings of two servers' stations that reach
// the buffer out of source-time order are fed to the engine in time order.
// Fed in buffer order, a's fault at 10 s would count from 20 s and b's
// running state at 0 s would override its fault at 5 s.
func TestHoldReleasesInTimeOrder(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(
		rd("a", "Status", 0, 1), rd("a", "Count", 0, 0),
		rd("b", "Status", 5*time.Second, 4), // plc2's notification overtakes its predecessor
		rd("a", "Status", 20*time.Second, 1),
		rd("b", "Status", 0, 1), rd("b", "Count", 0, 0),
		rd("a", "Status", 10*time.Second, 4),
		rd("a", "Unrelated", 15*time.Second, 9), // plays no role: not held
	)
	h.take(1 << 20)
	if len(h.r.held) != 7 {
		t.Fatalf("%d readings held, want 7 (every role reading, not the unrelated one)", len(h.r.held))
	}
	h.step(60 * time.Second)
	for _, c := range []struct {
		station         string
		run, unplanned  float64
		wantStops, stop int64
	}{{"a", 50, 10, 1, 0}, {"b", 5, 55, 1, 0}} {
		r := h.rolling(c.station)
		if r.RunS != c.run || r.UnplannedStopS != c.unplanned || r.Stops != c.wantStops {
			t.Errorf("station %s: run %v s, unplanned %v s, stops %d; want %v, %v, %d",
				c.station, r.RunS, r.UnplannedStopS, r.Stops, c.run, c.unplanned, c.wantStops)
		}
	}
}

// TestHoldUntilLag: a reading newer than the checkpoint's time stays held
// and is saved with the state, not fed early.
func TestHoldUntilLag(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0), rd("a", "Count", 70*time.Second, 20))
	h.step(60 * time.Second)
	if got := h.rolling("a").Total; got != 0 {
		t.Errorf("total %d at 60 s, want 0: the count at 70 s was fed early", got)
	}
	s, err := unmarshalState(store.calls()[0].state)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Held) != 1 || s.Held[0].Seq != 3 {
		t.Errorf("saved held readings %+v, want the count at seq 3", s.Held)
	}
	h.step(80 * time.Second)
	if got := h.rolling("a").Total; got != 20 {
		t.Errorf("total %d at 80 s, want 20", got)
	}
}

// TestConnectionEventBySeq: a disconnect placed after seq 4 applies after
// the reading at seq 4, even when the runner, behind, ticks past the
// event's time having taken only seq 3.
func TestConnectionEventBySeq(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0),
		rd("a", "Status", 5*time.Second, 1), rd("a", "Count", 20*time.Second, 10))
	h.take(2)
	h.r.OnState("plc1", false, t0.Add(30*time.Second))
	if store.flushes != 1 {
		t.Errorf("%d flushes before placing the event, want 1", store.flushes)
	}
	h.take(1) // seq 3; seq 4 is committed, not yet taken
	if err := h.r.checkpoint(context.Background(), t0.Add(40*time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(h.logs.Records(msgStops)) != 0 {
		t.Error("the disconnect applied before the reading committed ahead of it was taken")
	}
	h.step(60 * time.Second) // takes seq 4, then the event
	r := h.rolling("a")
	if r.Total != 10 || r.GapParts != 0 {
		t.Errorf("total %d, gap parts %d; want 10 parts counted before the disconnect", r.Total, r.GapParts)
	}
	if r.UnknownS != 20 || r.RunS != 40 {
		t.Errorf("unknown %v s, run %v s; want 20 (the engine was at 40 s when it applied), 40", r.UnknownS, r.RunS)
	}
	if got := h.logs.Records(msgStops); len(got) != 1 {
		t.Errorf("%d disconnects logged, want 1", len(got))
	}
}

// TestCheckpointIsOneSave: the state, the cursor of the last entry taken
// and the records of the tick go to the store in one SaveConsumer call.
func TestCheckpointIsOneSave(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0), rd("a", "Count", 30*time.Second, 30),
		fb.Reading{Name: "l/a", Class: fb.ClassOEE}, rd("a", "Unrelated", 40*time.Second, 1))
	h.step(60 * time.Second)
	calls := store.calls()
	if len(calls) != 1 {
		t.Fatalf("%d saves, want 1", len(calls))
	}
	c := calls[0]
	if c.cursor != 5 || h.r.cursor != 5 {
		t.Errorf("saved cursor %d, runner's %d; want 5, the last entry taken", c.cursor, h.r.cursor)
	}
	want, err := entries(h.r.recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !slices.EqualFunc(c.records, want, sameEntry) {
		t.Errorf("saved records %+v, want the tick's %d records", c.records, len(want))
	}
	s, err := unmarshalState(c.state)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Through.Equal(t0.Add(60 * time.Second)) {
		t.Errorf("state through %v, want the checkpoint's time", s.Through)
	}
	eng, err := oee.New(plant())
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.UnmarshalBinary(s.Engine); err != nil {
		t.Errorf("saved engine state does not restore: %v", err)
	}
}

func sameEntry(a, b fb.Reading) bool {
	return a.Name == b.Name && a.Class == b.Class && a.Value.Str == b.Value.Str && a.SourceTime.Equal(b.SourceTime)
}

// TestSaveRetries: failing saves are logged once, keep their records and
// the cursor, and the next successful save carries them all, in order.
func TestSaveRetries(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0))
	store.fail = 3
	for i := 1; i <= 5; i++ {
		h.step(time.Duration(i) * 10 * time.Second)
	}
	calls := store.calls()
	if len(calls) != 5 {
		t.Fatalf("%d saves, want 5", len(calls))
	}
	for i, c := range calls[:3] {
		if c.err == nil || len(c.records) != (i+1)*len(calls[0].records) {
			t.Errorf("save %d: err %v, %d records; want a failure with the records of %d ticks", i, c.err, len(c.records), i+1)
		}
	}
	ok := calls[3]
	if ok.err != nil || !slices.EqualFunc(ok.records[:len(calls[2].records)], calls[2].records, sameEntry) {
		t.Errorf("the first good save does not lead with the kept records")
	}
	if len(calls[4].records) != len(calls[0].records) {
		t.Errorf("the save after recovery has %d records, want only its tick's %d", len(calls[4].records), len(calls[0].records))
	}
	for i, c := range calls[:4] { // failed saves commit no records to take
		if c.cursor != 2 {
			t.Errorf("save %d: cursor %d, want 2", i, c.cursor)
		}
	}
	if store.cursor != calls[4].cursor || len(h.r.unsaved) != 0 {
		t.Errorf("stored cursor %d, %d unsaved; want the last save's %d, 0", store.cursor, len(h.r.unsaved), calls[4].cursor)
	}
	if n, m := len(h.logs.Records(msgSaveFailed)), len(h.logs.Records(msgSaveOK)); n != 1 || m != 1 {
		t.Errorf("failure logged %d times, recovery %d; want once each", n, m)
	}
	if rec := h.logs.Records(msgSaveFailed); len(rec) == 1 && rec[0]["level"] != "ERROR" {
		t.Errorf("failure logged at %v, want ERROR", rec[0]["level"])
	}
}

// TestUnsavedBounded: while saves fail, at most MaxUnsaved records are
// kept; the oldest go.
func TestUnsavedBounded(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1))
	h.r.unsaved = make([]fb.Reading, MaxUnsaved)
	for i := range h.r.unsaved {
		h.r.unsaved[i].Seq = uint64(i) // marks the old ones
	}
	store.fail = 1
	h.step(10 * time.Second)
	n := len(h.r.recs)
	if len(h.r.unsaved) != MaxUnsaved || n == 0 {
		t.Fatalf("%d unsaved after %d new records, want MaxUnsaved", len(h.r.unsaved), n)
	}
	if first, last := h.r.unsaved[0], h.r.unsaved[MaxUnsaved-1]; first.Seq != uint64(n) || last.Class != fb.ClassOEE {
		t.Errorf("kept from old seq %d to a %v entry; want old seq %d to the newest record", first.Seq, last.Class, n)
	}
}

// TestRestartFromCheckpoint: a second runner on the same store restores the
// state, the readings held at the save and the cursor, takes each reading
// after the cursor once — those the dead process committed after its save
// as seen — and counts the time from the last of them until the server is
// back as unknown.
func TestRestartFromCheckpoint(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0), rd("a", "Count", 30*time.Second, 30),
		rd("a", "Count", 45*time.Second, 35)) // held at the save at 40 s
	h.step(40 * time.Second)
	saved := store.cursor
	store.commit(rd("a", "Count", 50*time.Second, 40)) // committed after the save, then the process dies
	committed := store.Stats().LastSeq

	h2 := newHarness(t, store)
	if h2.r.cursor != committed || len(h2.logs.Records(msgRestored)) != 1 {
		t.Fatalf("restored from cursor %d to %d (want %d), logs:\n%s", saved, h2.r.cursor, committed, h2.logs)
	}
	h2.take(1 << 20)
	h2.r.OnState("plc1", true, t0.Add(3*time.Minute))
	store.commit(rd("a", "Status", 3*time.Minute, 1), rd("a", "Count", 3*time.Minute+30*time.Second, 100))
	h2.step(4 * time.Minute)
	r := h2.rolling("a")
	if r.Total != 100 || r.GapParts != 60 {
		t.Errorf("total %d, gap parts %d; want 100 (no part counted twice), 60 across the gap", r.Total, r.GapParts)
	}
	if r.UnknownS != 130 || r.RunS != 110 {
		t.Errorf("unknown %v s, run %v s; want 130 (50 s to 3 min), 110", r.UnknownS, r.RunS)
	}
	if last := store.calls()[len(store.calls())-1]; last.cursor <= saved {
		t.Errorf("second runner saved cursor %d, want past %d", last.cursor, saved)
	}
}

// TestRestoreMismatch: saved state of other lines starts afresh, with the
// cursor kept.
func TestRestoreMismatch(t *testing.T) {
	store := newFakeStore()
	store.cursor, store.state = 7, []byte{stateVersion, 1, 2, 3}
	h := newHarness(t, store)
	if h.r.cursor != 7 || !h.logs.Contains("oee: saved state does not fit this configuration; starting afresh") {
		t.Errorf("cursor %d, logs:\n%s", h.r.cursor, h.logs)
	}
}

// TestRun drives the loop: it checkpoints by itself, and on cancel takes
// what is committed and saves once more.
func TestRun(t *testing.T) {
	store, clock, logs := newFakeStore(), &fakeClock{t: t0.Add(time.Minute)}, &testenv.Logs{}
	r, err := New(Options{Engine: plant(), Store: store, Logger: logs.Logger(), Now: clock.Now,
		Checkpoint: 5 * time.Millisecond, Lag: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0), rd("a", "Count", 40*time.Second, 40))
	testenv.Wait(t, 5*time.Second, "a save past seq 3", func() bool { return store.Stats().LastSeq > 3 && store.cursor >= 3 })
	store.commit(rd("a", "Count", 55*time.Second, 50)) // after clock − lag: held until the final save
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	last := store.calls()[len(store.calls())-1]
	if last.err != nil || last.cursor < 4 || !logs.Contains("oee: state saved") {
		t.Fatalf("final save: cursor %d, err %v; logs:\n%s", last.cursor, last.err, logs)
	}
	s, err := unmarshalState(last.state)
	if err != nil || !s.Through.Equal(t0.Add(55*time.Second)) || len(s.Held) != 0 {
		t.Errorf("final state through %v with %d held (%v); want everything fed, through the last reading", s.Through, len(s.Held), err)
	}
	for _, rec := range r.Current() {
		if rec.Station == "a" && rec.Total != 40 {
			t.Errorf("station a's rolling total %d at clock − lag, want 40", rec.Total)
		}
	}
	if _, ok := r.Latest("l"); !ok || len(r.Current()) != 3 {
		t.Errorf("%d current records, want the line's and both stations'", len(r.Current()))
	}
}
