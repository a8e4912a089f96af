package runner

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/oee"
)

const msgReconfigured = "oee: reconfigured"

// reconfigure hands opts to the runner and applies them, as Run does
// between two reads.
func (h *harness) reconfigure(opts oee.Options) {
	h.t.Helper()
	if err := h.r.Reconfigure(opts); err != nil {
		h.t.Fatal(err)
	}
	h.r.applyPending()
}

// withStation is plant with one more station of line l, on plc2.
func withStation(opts oee.Options, name string) oee.Options {
	st := opts.Lines[0].Stations[1]
	st.Name, st.Roles = name, oee.Roles{State: "l/" + name + "/Status", TotalCount: "l/" + name + "/Count"}
	opts.Lines[0].Stations = append(slices.Clip(opts.Lines[0].Stations), st)
	return opts
}

// slowerB is plant with station b's ideal cycle time two seconds.
func slowerB() oee.Options {
	opts := plant()
	opts.Lines[0].Stations[1].IdealCycleTime = 2 * time.Second
	return opts
}

// TestReconfigureKeepsUnchanged: b's ideal cycle time changes at 60 s. a
// keeps its time, parts and shift so far, and its fault and count held at
// the change are fed to the new engine; b starts afresh at 60 s, running
// (its last state) from its last count, with the new ideal cycle.
func TestReconfigureKeepsUnchanged(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	for _, st := range []string{"a", "b"} {
		store.commit(rd(st, "Status", 0, 1), rd(st, "Count", 0, 0), rd(st, "Count", 30*time.Second, 30))
	}
	h.step(60 * time.Second)
	store.commit(rd("a", "Status", 70*time.Second, 4), rd("a", "Count", 75*time.Second, 60))
	h.take(1 << 20) // held at the change
	h.reconfigure(slowerB())
	store.commit(rd("a", "Status", 80*time.Second, 1), rd("a", "Count", 90*time.Second, 90), rd("b", "Count", 90*time.Second, 50))
	h.step(120 * time.Second)

	a, b := h.rolling("a"), h.rolling("b")
	if a.Total != 90 || a.RunS != 110 || a.UnplannedStopS != 10 || a.Stops != 1 || pct(a.Performance) != 81.82 {
		t.Errorf("a: total %d, run %v s, unplanned %v s in %d stops, performance %v %%; want 90, 110 s, 10 s in 1, 81.82 %%",
			a.Total, a.RunS, a.UnplannedStopS, a.Stops, pct(a.Performance))
	}
	if b.Total != 20 || b.RunS != 60 || b.UnknownS != 0 || pct(b.Performance) != 66.67 {
		t.Errorf("b: total %d, run %v s, unknown %v s, performance %v %%; want 20, 60 s, 0, 66.67 %% (40 s of work in 60)",
			b.Total, b.RunS, b.UnknownS, pct(b.Performance))
	}
	for _, rec := range h.r.Shift() {
		if rec.Station == "a" && (rec.Total != 90 || rec.RunS != 110) {
			t.Errorf("a's shift so far: total %d, run %v s; want 90, 110 s", rec.Total, rec.RunS)
		}
	}
	logged := h.logs.Records(msgReconfigured)
	if len(logged) != 1 || logged[0]["level"] != "INFO" || !reflect.DeepEqual(logged[0]["kept"], []any{"l/a"}) ||
		!reflect.DeepEqual(logged[0]["restarted"], []any{"l/b"}) || len(logged[0]["added"].([]any)) != 0 {
		t.Errorf("logged %v, want one INFO line keeping l/a, restarting l/b", logged)
	}
}

func pct(r oee.Ratio) float64 {
	if !r.Defined {
		return -1
	}
	return float64(int(r.Value*10000+0.5)) / 100
}

// TestReconfigureAddRemove: b goes, c comes at 60 s. b disappears from
// what the runner shows, c starts afresh, a goes on, and the state saved
// fits the new options only. Then line l goes for a line m.
func TestReconfigureAddRemove(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	for _, st := range []string{"a", "b"} {
		store.commit(rd(st, "Status", 0, 1), rd(st, "Count", 0, 0), rd(st, "Count", 30*time.Second, 30))
	}
	h.step(60 * time.Second)
	opts := withStation(plant(), "c")
	opts.Lines[0].Stations = slices.Delete(opts.Lines[0].Stations, 1, 2)
	h.reconfigure(opts)
	for _, recs := range [][]oee.Record{h.r.Current(), h.r.Shift()} {
		if got := stationNames(recs); !slices.Equal(got, []string{"", "a"}) {
			t.Errorf("records of %q after b went, want the line's and a's", got)
		}
	}
	store.commit(rd("a", "Count", 90*time.Second, 90), rd("b", "Count", 90*time.Second, 90),
		rd("c", "Status", 70*time.Second, 1), rd("c", "Count", 70*time.Second, 0), rd("c", "Count", 110*time.Second, 40))
	h.step(120 * time.Second)
	if got := stationNames(h.r.Current()); !slices.Equal(got, []string{"", "a", "c"}) {
		t.Errorf("current records of %q, want the line's, a's, c's", got)
	}
	if a := h.rolling("a"); a.Total != 90 || a.RunS != 120 {
		t.Errorf("a: total %d, run %v s; want 90, 120 s", a.Total, a.RunS)
	}
	if c := h.rolling("c"); c.Total != 40 || c.RunS != 50 || c.UnknownS != 10 {
		t.Errorf("c: total %d, run %v s, unknown %v s; want 40, 50 s, 10 s (from 60 s to its first state)", c.Total, c.RunS, c.UnknownS)
	}
	if got := h.logs.Records(msgReconfigured); len(got) != 1 || !reflect.DeepEqual(got[0]["removed"], []any{"l/b"}) ||
		!reflect.DeepEqual(got[0]["added"], []any{"l/c"}) {
		t.Errorf("logged %v, want l/b removed, l/c added", got)
	}
	checkSavedFits(t, store, opts, plant())

	m := oee.Options{Lines: []oee.Line{{Name: "m", Stations: []oee.Station{plant().Lines[0].Stations[0]}}}}
	m.Lines[0].Stations[0].Name = "x"
	h.reconfigure(m)
	if _, ok := h.r.Latest("l"); ok || len(h.r.Current()) != 0 || !slices.Equal(h.r.Lines(), []string{"m"}) {
		t.Errorf("after line l went: lines %q, %d current records; want m alone, none", h.r.Lines(), len(h.r.Current()))
	}
}

func stationNames(recs []oee.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Station)
	}
	return out
}

// checkSavedFits checks that the engine state last saved restores into an
// engine of opts and not into one of old.
func checkSavedFits(t *testing.T, store *fakeStore, opts, old oee.Options) {
	t.Helper()
	calls := store.calls()
	s, err := unmarshalState(calls[len(calls)-1].state)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opts oee.Options
		fits bool
	}{{opts, true}, {old, false}} {
		eng, err := oee.New(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.UnmarshalBinary(s.Engine); (err == nil) != c.fits {
			t.Errorf("saved state into an engine of %d stations: %v; want fits %v", len(stationsOf(c.opts)), err, c.fits)
		}
	}
}

// TestReconfigureInvalid: options the engine rejects, or without a
// station, are refused and change nothing.
func TestReconfigureInvalid(t *testing.T) {
	bad := plant()
	bad.Lines[0].Output = "nowhere"
	for _, c := range []struct {
		name      string
		opts      oee.Options
		noStation bool
	}{
		{"bad output", bad, false},
		{"no line", oee.Options{}, true},
		{"no station", oee.Options{Lines: []oee.Line{{Name: "l"}}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := newFakeStore()
			h := newHarness(t, store)
			store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0))
			h.step(30 * time.Second)
			err := h.r.Reconfigure(c.opts)
			if err == nil || errors.Is(err, ErrNoStations) != c.noStation {
				t.Fatalf("Reconfigure = %v, want an error, ErrNoStations %v", err, c.noStation)
			}
			h.r.applyPending()
			store.commit(rd("a", "Count", 50*time.Second, 50))
			h.step(60 * time.Second)
			if !reflect.DeepEqual(h.r.opts, plant()) || h.logs.Contains(msgReconfigured) || h.rolling("a").Total != 50 {
				t.Errorf("options changed %v, reconfigured logged %v, a's total %d (want 50)",
					!reflect.DeepEqual(h.r.opts, plant()), h.logs.Contains(msgReconfigured), h.rolling("a").Total)
			}
		})
	}
}

// TestRestartAfterReconfigure: the state saved after a change restores on
// a restart with the new options; a's parts count on, b keeps its new
// ideal cycle.
func TestRestartAfterReconfigure(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	for _, st := range []string{"a", "b"} {
		store.commit(rd(st, "Status", 0, 1), rd(st, "Count", 0, 0), rd(st, "Count", 30*time.Second, 30))
	}
	h.step(60 * time.Second)
	opts := withStation(slowerB(), "c")
	h.reconfigure(opts)
	store.commit(rd("a", "Count", 75*time.Second, 45), rd("b", "Count", 75*time.Second, 40))
	h.step(90 * time.Second)
	checkSavedFits(t, store, opts, plant())

	h2 := newHarnessWith(t, store, opts)
	if len(h2.logs.Records(msgRestored)) != 1 {
		t.Fatalf("not restored; logs:\n%s", h2.logs)
	}
	h2.r.OnState("plc1", true, t0.Add(2*time.Minute))
	store.commit(rd("a", "Status", 2*time.Minute, 1), rd("a", "Count", 150*time.Second, 60))
	h2.step(3 * time.Minute)
	a, b := h2.rolling("a"), h2.rolling("b")
	if a.Total != 60 || a.GapParts != 15 || a.RunS != 150 || a.UnknownS != 30 {
		t.Errorf("a: total %d, gap parts %d, run %v s, unknown %v s; want 60, 15, 150 s, 30 s", a.Total, a.GapParts, a.RunS, a.UnknownS)
	}
	if b.Total != 10 || !b.IdealCycleS.Defined || b.IdealCycleS.Value != 2 {
		t.Errorf("b: total %d, ideal cycle %+v; want the 10 parts since the change, at 2 s", b.Total, b.IdealCycleS)
	}
}

// TestReconfigureStoppedServer: b, restarted while plc2's data is stopped,
// starts disconnected, not in its last state; its time is known again when
// plc2 is back.
func TestReconfigureStoppedServer(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("b", "Status", 0, 1), rd("b", "Count", 0, 0))
	h.step(30 * time.Second)
	h.r.OnState("plc2", false, t0.Add(40*time.Second))
	h.step(60 * time.Second)
	h.reconfigure(slowerB())
	h.step(90 * time.Second)
	if b := h.rolling("b"); b.UnknownS != 30 || b.RunS != 0 {
		t.Errorf("b while plc2 is stopped: unknown %v s, run %v s; want 30 s (60 to 90 s), 0", b.UnknownS, b.RunS)
	}
	h.r.OnState("plc2", true, t0.Add(100*time.Second))
	store.commit(rd("b", "Status", 100*time.Second, 1), rd("b", "Count", 100*time.Second, 5), rd("b", "Count", 110*time.Second, 15))
	h.step(120 * time.Second)
	if b := h.rolling("b"); b.UnknownS != 40 || b.RunS != 20 || b.Total != 10 {
		t.Errorf("b: unknown %v s, run %v s, total %d; want 40 s, 20 s, 10", b.UnknownS, b.RunS, b.Total)
	}
}

// TestReconfigureKeepsGap: a reconfiguration (b changed, c added) while
// plc1's gap is open keeps the gap's snapshot fitting, so history still
// fills a's gap.
func TestReconfigureKeepsGap(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0), rd("b", "Status", 0, 1), rd("b", "Count", 0, 0))
	h.step(60 * time.Second)
	h.r.OnState("plc1", false, t0.Add(70*time.Second))
	h.step(90 * time.Second)
	h.reconfigure(withStation(slowerB(), "c"))
	store.commit(bf("a", "Status", 80*time.Second, 4), bf("a", "Status", 85*time.Second, 1), bf("a", "Count", 88*time.Second, 20))
	h.r.GapFilled("plc1", []string{"l/a/Status", "l/a/Count"})
	h.r.OnState("plc1", true, t0.Add(90*time.Second))
	h.step(120 * time.Second)
	if a := h.rolling("a"); a.UnknownS != 0 || a.UnplannedStopS != 5 || a.Total != 20 || a.GapParts != 0 {
		t.Errorf("a: unknown %v s, unplanned %v s, total %d, gap parts %d; want 0, 5 s, 20, 0; logs:\n%s",
			a.UnknownS, a.UnplannedStopS, a.Total, a.GapParts, h.logs)
	}
}

// TestReconfigureDuringRun: b's settings change every 30 readings while
// Run takes a count a second from a and b (options handed over before Run
// too); a, kept each time, counts every part once.
func TestReconfigureDuringRun(t *testing.T) {
	store, clock, logs := newFakeStore(), &fakeClock{t: t0}, &testenv.Logs{}
	r, err := New(Options{Engine: plant(), Store: store, Logger: logs.Logger(), Now: clock.Now, Checkpoint: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Reconfigure(slowerB()); err != nil { // before Run
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	testenv.Wait(t, 5*time.Second, "the options handed over before Run applied", func() bool {
		return len(logs.Records(msgReconfigured)) == 1
	})
	if got := logs.Records(msgReconfigured)[0]["restarted"]; !reflect.DeepEqual(got, []any{"l/b"}) {
		t.Errorf("before Run: restarted %v, want l/b", got)
	}
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0), rd("b", "Status", 0, 1), rd("b", "Count", 0, 0))
	const n = 300
	for i := 1; i <= n; i++ {
		at := time.Duration(i) * time.Second
		clock.set(t0.Add(at))
		store.commit(rd("a", "Count", at, uint64(i)), rd("b", "Count", at, uint64(i)))
		if i%30 == 0 {
			opts := plant()
			if i%60 == 0 {
				opts = slowerB()
			}
			if err := r.Reconfigure(opts); err != nil {
				t.Fatal(err)
			}
			want := i/30 + 1
			testenv.Wait(t, 5*time.Second, "the reconfiguration applied", func() bool {
				_, _ = r.Current(), r.Lines()
				return len(logs.Records(msgReconfigured)) == want
			})
		}
	}
	last := store.Stats().LastSeq
	testenv.Wait(t, 5*time.Second, "a save past the last reading", func() bool { return store.savedCursor() >= last })
	end := t0.Add(n*time.Second + 10*time.Second)
	clock.set(end)
	var a oee.Record
	testenv.Wait(t, 5*time.Second, "a's rolling record at the end", func() bool {
		for _, rec := range r.Current() {
			if rec.Station == "a" {
				a = rec
			}
		}
		return a.End.Equal(end)
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if a.Total != n || a.GapParts != 0 || a.ImplausibleDeltas != 0 {
		t.Errorf("a: total %d, gap parts %d, implausible %d; want %d parts, each once", a.Total, a.GapParts, a.ImplausibleDeltas, n)
	}
}

// TestReconfigurePendingAtStop: options handed over but not applied when
// Run's context ends are applied before the final save, so that the state
// saved fits the options the next start reads.
func TestReconfigurePendingAtStop(t *testing.T) {
	store := newFakeStore()
	r, err := New(Options{Engine: plant(), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	opts := withStation(plant(), "c")
	if err := r.Reconfigure(opts); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	checkSavedFits(t, store, opts, plant())
}
