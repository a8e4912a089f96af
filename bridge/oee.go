package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	fb "factorybridge"
	"factorybridge/config"
	"factorybridge/oee"
)

// OEE runner tuning.
const (
	oeeConsumer     = "oee"           // its name in the buffer
	oeeCheckpoint   = time.Second     // how often it ticks the engine and saves
	oeeReadBatch    = 4096            // entries per buffer read
	oeeFinalTimeout = 5 * time.Second // bounds the final read and save of a shutdown
	oeeLagMargin    = 500 * time.Millisecond
	// oeeMaxUnsaved bounds the records kept while saves fail (hours of
	// records of a large plant); beyond it the oldest are dropped.
	oeeMaxUnsaved = 100_000
)

// oeeStore is what the OEE runner needs of the buffer (buffer/consumer.go).
type oeeStore interface {
	LoadConsumer(name string) (cursor uint64, state []byte, err error)
	SaveConsumer(ctx context.Context, name string, cursor uint64, state []byte, records []fb.Reading) error
	ReadConsumer(ctx context.Context, after uint64, max int) ([]fb.Reading, error)
	Flush(ctx context.Context) error
	Stats() fb.BufferStats
}

// oeeRunner is the buffer's second consumer: it feeds committed readings to
// the OEE engine in sequence order, ticks the engine, and every second saves
// the engine's state, the sequence of the last reading it took and the
// records the tick made in one buffer transaction. The records then travel
// to the broker through the buffer like readings. A restart thus continues
// exactly after the last reading accounted: no part counted twice or lost.
type oeeRunner struct {
	log      *slog.Logger
	cfg      *config.Config
	eng      *oee.Engine
	store    oeeStore
	stations [][2]string // line, station: every station with OEE
	// lag is how far behind the clock the engine is ticked: a reading
	// reaches the buffer up to a publishing interval and a commit after its
	// source time, and one older than the engine's time would count late.
	lag time.Duration
	now func() time.Time

	cursor  uint64          // seq of the last entry taken
	nodes   map[string]bool // reading names of the nodes with OEE roles
	held    []heldItem      // waiting for the engine's time (oee_hold.go)
	events  connEvents
	recs    []oee.Record
	unsaved []fb.Reading // records whose save failed, retried with the next
	failing bool         // saves are failing: logged once
	savedAt time.Time    // the time the engine was ticked to at the last save

	mu     sync.Mutex
	latest map[string]oee.Record // line → its latest rolling line record
	// current holds the latest rolling record of every line and station
	// (station "" for the line), bounded by the configuration.
	current map[[2]string]oee.Record
}

// newOEERunner returns nil when no line of cfg computes OEE.
func newOEERunner(cfg *config.Config, store oeeStore, log *slog.Logger) (*oeeRunner, error) {
	r := &oeeRunner{log: log, cfg: cfg, store: store, now: time.Now, latest: map[string]oee.Record{},
		current: map[[2]string]oee.Record{}}
	for _, l := range cfg.Lines {
		for _, s := range l.Stations {
			if l.OEE != nil && s.OEE != nil {
				r.stations = append(r.stations, [2]string{l.Name, s.Name})
			}
		}
	}
	if len(r.stations) == 0 {
		return nil, nil
	}
	eng, err := oee.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("oee: %w", err)
	}
	r.eng, r.lag, r.nodes = eng, oeeLag(cfg), oeeNodeNames(cfg)
	return r, nil
}

// oeeLag is the longest a reading takes from its source time to a commit,
// with a margin: the longest publishing interval and the commit interval.
func oeeLag(cfg *config.Config) time.Duration {
	var pi time.Duration
	for _, n := range cfg.Nodes("") {
		pi = max(pi, n.Node.PublishingInterval.D())
	}
	return pi + cfg.Buffer.CommitInterval.D() + oeeLagMargin
}

// Run consumes the buffer until ctx ends, then takes what is committed,
// saves once more and returns. Cancel ctx after the sources stopped and the
// buffer was flushed, and before the publisher's drain, so that the final
// records are published.
func (r *oeeRunner) Run(ctx context.Context) error {
	if err := r.restore(); err != nil {
		return err
	}
	next := r.now().Add(oeeCheckpoint)
	for ctx.Err() == nil {
		if err := r.consume(ctx, next); err != nil {
			return err
		}
		if !r.now().Before(next) {
			if err := r.checkpoint(ctx, r.now().Add(-r.lag)); err != nil {
				return err
			}
			next = r.now().Add(oeeCheckpoint)
		}
	}
	return r.finish()
}

// consume takes the entries committed until deadline (or ctx's end).
func (r *oeeRunner) consume(ctx context.Context, deadline time.Time) error {
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	rs, err := r.store.ReadConsumer(rctx, r.cursor, oeeReadBatch)
	if err != nil && rctx.Err() == nil {
		return fmt.Errorf("oee: read buffer after seq %d: %w", r.cursor, err)
	}
	r.take(rs)
	return nil
}

// take holds the readings of OEE nodes, and each connection event once the
// entries committed before it have been taken.
func (r *oeeRunner) take(rs []fb.Reading) {
	for i := range rs {
		r.dueEvents(rs[i].Seq - 1)
		if rs[i].Class == fb.ClassReading {
			r.hold(&rs[i])
		}
		r.cursor = rs[i].Seq
	}
	r.dueEvents(r.cursor)
}

// checkpoint feeds the engine what is held up to at, ticks it to at and
// saves the state, the cursor and the records in one transaction. A failed
// save (a full disk) is logged once and retried at the next checkpoint with
// the records kept: the buffer keeps the readings after the saved cursor.
func (r *oeeRunner) checkpoint(ctx context.Context, at time.Time) error {
	r.release(at)
	r.recs = r.eng.Tick(at, r.recs[:0])
	r.noteLatest(r.recs)
	state, err := r.marshal(at)
	if err != nil {
		return err
	}
	if err := r.appendUnsaved(r.recs); err != nil {
		return err
	}
	err = r.store.SaveConsumer(ctx, oeeConsumer, r.cursor, state, r.unsaved)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil
	case err != nil && !r.failing:
		r.failing = true
		r.log.Error("oee: saving state failed; records are kept and the save retried", "seq", r.cursor, "err", err)
	case err == nil && r.failing:
		r.failing = false
		r.log.Info("oee: saving state succeeds again", "seq", r.cursor)
	}
	if err == nil {
		r.unsaved, r.savedAt = r.unsaved[:0], at
	}
	return nil
}

func (r *oeeRunner) appendUnsaved(recs []oee.Record) error {
	entries, err := oeeEntries(recs)
	if err != nil {
		return err
	}
	r.unsaved = append(r.unsaved, entries...)
	if n := len(r.unsaved) - oeeMaxUnsaved; n > 0 {
		r.unsaved = r.unsaved[n:]
	}
	return nil
}

// finish takes everything committed (the sources have stopped and the
// buffer was flushed) and saves, within oeeFinalTimeout.
func (r *oeeRunner) finish() error {
	ctx, cancel := context.WithTimeout(context.Background(), oeeFinalTimeout)
	defer cancel()
	for last := r.store.Stats().LastSeq; r.cursor < last && ctx.Err() == nil; {
		if err := r.consume(ctx, time.Now().Add(oeeFinalTimeout)); err != nil {
			return err
		}
	}
	r.dueEvents(r.cursor)
	// Nothing older can come: take everything held, up to the last reading.
	at := maxTime(r.now().Add(-r.lag), r.latestHeld())
	if err := r.checkpoint(ctx, at); err != nil || r.failing {
		// Run's context has ended, so an error returned would go unheard.
		r.log.Error("oee: final save failed; the next start takes the readings after the last save again",
			"seq", r.cursor, "err", err)
		return nil
	}
	r.log.Info("oee: state saved", "seq", r.cursor, "through", r.savedAt)
	return nil
}

// Latest returns the line's latest rolling record of the line as a whole.
func (r *oeeRunner) Latest(line string) (oee.Record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.latest[line]
	return rec, ok
}

func (r *oeeRunner) noteLatest(recs []oee.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		if rec.Kind != oee.KindRolling {
			continue
		}
		r.current[[2]string{rec.Line, rec.Station}] = rec
		if rec.Station == "" {
			r.latest[rec.Line] = rec
		}
	}
}

// Current returns the latest rolling record of every line and station that
// has one, lines first, each in configuration order.
func (r *oeeRunner) Current() []oee.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []oee.Record
	for _, line := range r.lines() {
		if rec, ok := r.current[[2]string{line, ""}]; ok {
			out = append(out, rec)
		}
	}
	for _, s := range r.stations {
		if rec, ok := r.current[s]; ok {
			out = append(out, rec)
		}
	}
	return out
}

// oeeEntries turns records into buffer entries of class OEE.
func oeeEntries(recs []oee.Record) ([]fb.Reading, error) {
	out := make([]fb.Reading, 0, len(recs))
	for i := range recs {
		rec := &recs[i]
		b, err := rec.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("oee: encode record: %w", err)
		}
		out = append(out, fb.Reading{Name: fb.OEEName(rec.Line, rec.Station), Line: rec.Line,
			Station: rec.Station, Class: fb.ClassOEE, Value: fb.TextValue(fb.TypeString, string(b)),
			SourceTime: rec.End})
	}
	return out, nil
}

// oeeOnState is the OPC UA clients' OnState: nil without OEE.
func (b *Bridge) oeeOnState() func(server string, connected bool, at time.Time) {
	if b.oee == nil {
		return nil
	}
	return b.oee.onState
}

// startOEE runs the OEE runner, if any, and returns the function that stops
// it and waits until its final save is done.
func (b *Bridge) startOEE(fail context.CancelCauseFunc) (stop func()) {
	if b.oee == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	goRun(&wg, "oee", b.oee.Run, ctx, fail)
	return func() {
		cancel()
		wg.Wait()
	}
}

// lines returns the names of the lines with OEE, in configuration order.
func (r *oeeRunner) lines() []string {
	var out []string
	for _, s := range r.stations {
		if len(out) == 0 || out[len(out)-1] != s[0] {
			out = append(out, s[0])
		}
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
