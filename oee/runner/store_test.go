package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/oee"
)

// errDiskFull is what the fake store's failing saves return.
var errDiskFull = errors.New("disk full")

// fakeStore is the buffer as the runner sees it, in memory. Like the
// buffer, SaveConsumer stores cursor and state and commits the records
// (with new sequence numbers) at once; it fails while fail > 0.
type fakeStore struct {
	mu      sync.Mutex
	entries []fb.Reading // committed, Seq 1, 2, …
	cursor  uint64
	state   []byte
	saves   []saveCall // every SaveConsumer call, failed ones too
	fail    int
	flushes int
	added   chan struct{} // closed and replaced when entries are committed
}

// saveCall is one SaveConsumer call as the store received it.
type saveCall struct {
	cursor  uint64
	state   []byte
	records []fb.Reading
	err     error
}

func newFakeStore() *fakeStore { return &fakeStore{added: make(chan struct{})} }

var _ Store = (*fakeStore)(nil)

// commit appends entries as the writer would, giving them sequence numbers.
func (s *fakeStore) commit(rs ...fb.Reading) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commitLocked(rs)
}

func (s *fakeStore) commitLocked(rs []fb.Reading) {
	for _, r := range rs {
		r.Seq = uint64(len(s.entries) + 1)
		s.entries = append(s.entries, r)
	}
	close(s.added)
	s.added = make(chan struct{})
}

func (s *fakeStore) LoadConsumer(string) (uint64, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor, slices.Clone(s.state), nil
}

func (s *fakeStore) SaveConsumer(_ context.Context, _ string, cursor uint64, state []byte, records []fb.Reading) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	call := saveCall{cursor: cursor, state: slices.Clone(state), records: slices.Clone(records)}
	switch {
	case s.fail > 0:
		s.fail--
		call.err = errDiskFull
	case cursor > uint64(len(s.entries)):
		call.err = fmt.Errorf("cursor %d beyond the last committed sequence %d", cursor, len(s.entries))
	default:
		s.cursor, s.state = cursor, call.state
		s.commitLocked(records)
	}
	s.saves = append(s.saves, call)
	return call.err
}

// ReadConsumer overwrites all of dst first, so a runner that still needed
// a reading of the slice it passed back sees garbage.
func (s *fakeStore) ReadConsumer(ctx context.Context, dst []fb.Reading, after uint64, max int) ([]fb.Reading, error) {
	for i := range dst[:cap(dst)] {
		dst[:cap(dst)][i] = fb.Reading{Seq: 1 << 60, Name: "scribbled"}
	}
	for {
		s.mu.Lock()
		rs, added := append(dst[:0], s.after(after, max)...), s.added
		s.mu.Unlock()
		if len(rs) > 0 {
			return rs, nil
		}
		select {
		case <-added:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *fakeStore) after(seq uint64, max int) []fb.Reading {
	if seq >= uint64(len(s.entries)) {
		return nil
	}
	rs := s.entries[seq:]
	return slices.Clone(rs[:min(len(rs), max)])
}

func (s *fakeStore) Flush(context.Context) error {
	s.mu.Lock()
	s.flushes++
	s.mu.Unlock()
	return nil
}

func (s *fakeStore) Stats() fb.BufferStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fb.BufferStats{LastSeq: uint64(len(s.entries))}
}

// calls returns a copy of the SaveConsumer calls so far.
func (s *fakeStore) calls() []saveCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.saves)
}

// fakeClock is the runner's Now, set by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// t0 is when the tests' plant starts.
var t0 = time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)

// plant is one line, "l", with station a on server plc1 and station b on
// plc2, each with a Connected Factory Status and a total count.
func plant() oee.Options {
	st := func(name, server string) oee.Station {
		return oee.Station{Name: name, Server: server, Preset: oee.PresetConnectedFactory, IdealCycleTime: time.Second,
			Roles: oee.Roles{State: "l/" + name + "/Status", TotalCount: "l/" + name + "/Count"}}
	}
	return oee.Options{Lines: []oee.Line{{Name: "l", Stations: []oee.Station{st("a", "plc1"), st("b", "plc2")}}}}
}

// rd is a reading of node at station of line l at t0 + at.
func rd(station, node string, at time.Duration, v uint64) fb.Reading {
	return fb.Reading{Name: "l/" + station + "/" + node, Line: "l", Station: station,
		Value: fb.UintValue(fb.TypeUInt64, v), SourceTime: t0.Add(at)}
}

// harness is a runner on a fake store with a fake clock, stepped by hand.
type harness struct {
	t     *testing.T
	store *fakeStore
	clock *fakeClock
	logs  *testenv.Logs
	r     *Runner
}

func newHarness(t *testing.T, store *fakeStore) *harness {
	t.Helper()
	return newHarnessWith(t, store, plant())
}

// newHarnessWith is newHarness for a plant of other options.
func newHarnessWith(t *testing.T, store *fakeStore, opts oee.Options) *harness {
	t.Helper()
	// The harness checkpoints by hand at the times a test names; the
	// runner's clock is past every reading, as a real clock is.
	h := &harness{t: t, store: store, clock: &fakeClock{t: t0.Add(24 * time.Hour)}, logs: &testenv.Logs{}}
	var err error
	h.r, err = New(Options{Engine: opts, Store: store, Logger: h.logs.Logger(), Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.r.restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

// take gives the runner the next n committed entries, as a read would.
func (h *harness) take(n int) {
	h.store.mu.Lock()
	rs := h.store.after(h.r.cursor, n)
	h.store.mu.Unlock()
	h.r.take(rs)
}

// step takes every committed entry and checkpoints at t0 + at.
func (h *harness) step(at time.Duration) {
	h.t.Helper()
	h.take(1 << 20)
	if err := h.r.checkpoint(context.Background(), t0.Add(at)); err != nil {
		h.t.Fatal(err)
	}
}

// rolling returns the latest rolling record of station ("" for the line).
func (h *harness) rolling(station string) oee.Record {
	h.t.Helper()
	for _, rec := range h.r.Current() {
		if rec.Station == station {
			return rec
		}
	}
	h.t.Fatalf("no rolling record of station %q", station)
	return oee.Record{}
}

// savedCursor is the cursor of the last successful save.
func (s *fakeStore) savedCursor() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}
