// Package runner runs the OEE engine as the durable buffer's second
// consumer: it feeds committed readings to the engine in time order, ticks
// it, and every checkpoint saves the engine's state, the sequence number of
// the last entry it took and the records the tick made in one buffer
// transaction. The records then travel to the broker through the buffer
// like readings. A restart thus continues exactly after the last reading
// accounted: no part counted twice or lost.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
)

// Tuning of the runner.
const (
	// Consumer is the runner's name in the buffer.
	Consumer = "oee"
	// DefaultCheckpoint is how often a runner with Options.Checkpoint zero
	// ticks the engine and saves.
	DefaultCheckpoint = time.Second
	// LagMargin is what Lag adds for the time a reading spends between its
	// source and the OPC UA client, and for scheduling.
	LagMargin = 500 * time.Millisecond
	// MaxAhead is how far ahead of the bridge's clock a reading's time may
	// be and still be held until then; a reading from further ahead counts
	// at the bridge's time (the OPC UA client warns about a skew of 30 s).
	MaxAhead = 30 * time.Second
	// MaxUnsaved bounds the records kept while saves fail (hours of records
	// of a large plant); beyond it the oldest are dropped.
	MaxUnsaved = 100_000

	readBatch    = 4096            // entries per buffer read
	finalTimeout = 5 * time.Second // bounds the final read and save of a shutdown
)

// ErrNoStations is New's answer when the engine's options have no station:
// there is nothing to run.
var ErrNoStations = errors.New("no station computes OEE")

// Store is what the runner needs of the buffer; *buffer.Buffer implements
// it (buffer/consumer.go).
type Store interface {
	LoadConsumer(name string) (cursor uint64, state []byte, err error)
	SaveConsumer(ctx context.Context, name string, cursor uint64, state []byte, records []fb.Reading) error
	ReadConsumer(ctx context.Context, dst []fb.Reading, after uint64, max int) ([]fb.Reading, error)
	Flush(ctx context.Context) error
	Stats() fb.BufferStats
}

// Options configures a Runner.
type Options struct {
	// Engine describes the lines and stations. The runner builds its
	// engine from it, and builds it afresh when the saved state does not
	// fit. Without a station New returns ErrNoStations.
	Engine oee.Options
	// Store is the buffer the runner consumes and saves to. Required.
	Store Store
	// Logger receives the runner's logs; nil discards them.
	Logger *slog.Logger
	// Lag is how far behind Now the engine is ticked, so that readings
	// arriving late by up to Lag still count in time order; compute it
	// with Lag. Zero ticks at Now.
	Lag time.Duration
	// Now is the clock the engine is ticked by; nil means time.Now.
	// Checkpoints are paced by the wall clock whatever Now says.
	Now func() time.Time
	// Checkpoint is how often the engine is ticked and its state saved;
	// zero means DefaultCheckpoint.
	Checkpoint time.Duration
}

// Lag returns the longest a reading takes from its source time to a
// commit, with LagMargin: the longest publishing interval of the nodes and
// the buffer's commit interval.
func Lag(publishing, commit time.Duration) time.Duration {
	return publishing + commit + LagMargin
}

// Runner is the OEE engine's consumer of the buffer. Run owns it; OnState,
// GapFilled, OnClockStep, Reconfigure, Latest, Current, Shift and Lines may
// be called from any goroutine.
type Runner struct {
	log   *slog.Logger
	opts  oee.Options // changed by Run's goroutine only (reconfigure.go)
	eng   *oee.Engine
	store Store
	lag   time.Duration
	now   func() time.Time
	every time.Duration

	cursor  uint64       // seq of the last entry taken
	readBuf []fb.Reading // the last read's slice, read into again (read)
	held    []heldItem   // waiting for the engine's time (hold.go)
	events  connEvents
	recs    []oee.Record
	unsaved []fb.Reading    // records whose save failed, retried with the next
	failing bool            // saves are failing: logged once
	ahead   map[string]bool // servers whose readings came from ahead of the bridge's clock: logged once
	savedAt time.Time       // the time the engine was ticked to at the last save

	// Gaps filled from history (gap.go): the time the engine was last
	// ticked to, the open gap, the backfilled readings waiting for their
	// GapFilled, and per server the stations whose gap a GapFilled
	// revised, for its session's connect.
	ticked     time.Time
	gap        *openGap
	backfilled []heldItem
	filled     map[string]map[[2]string]bool

	// Reconfiguring (reconfigure.go): the options waiting for Run, the
	// last reading fed of each role node and the servers whose data is
	// stopped, to start changed stations as a first start would.
	pending pendingOptions
	last    map[string]fb.Reading
	down    map[string]bool

	mu sync.Mutex
	// stations lists every station with OEE (line, station), in the order
	// of the options; Run's goroutine reads it without mu, as only it
	// writes it.
	stations [][2]string
	latest   map[string]oee.Record // line → its latest rolling line record
	// current holds the latest rolling record of every line and station
	// (station "" for the line), bounded by the options.
	current map[[2]string]oee.Record
	shift   map[[2]string]oee.Record // the same of shift-to-date records (status.go)
}

// New builds a runner and its engine; it does no I/O. It returns
// ErrNoStations when no station computes OEE: the caller then runs none.
func New(opts Options) (*Runner, error) {
	if opts.Store == nil {
		return nil, errors.New("new oee runner: no store")
	}
	r := &Runner{log: opts.Logger, opts: opts.Engine, store: opts.Store, lag: opts.Lag, now: opts.Now,
		every: opts.Checkpoint, latest: map[string]oee.Record{}, current: map[[2]string]oee.Record{},
		filled: map[string]map[[2]string]bool{}, ahead: map[string]bool{},
		last: map[string]fb.Reading{}, down: map[string]bool{}, stations: stationsOf(opts.Engine)}
	if len(r.stations) == 0 {
		return nil, ErrNoStations
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.every <= 0 {
		r.every = DefaultCheckpoint
	}
	var err error
	if r.eng, err = oee.New(opts.Engine); err != nil {
		return nil, fmt.Errorf("build oee engine: %w", err)
	}
	return r, nil
}

// Run consumes the buffer until ctx ends, then takes what is committed,
// saves once more and returns. Cancel ctx after the sources stopped and the
// buffer was flushed, and before the publisher's drain, so that the final
// records are published.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.restore(ctx); err != nil {
		return err
	}
	next := time.Now().Add(r.every)
	for ctx.Err() == nil {
		r.applyPending()
		if err := r.consume(ctx, next); err != nil {
			return err
		}
		if !time.Now().Before(next) {
			if err := r.checkpoint(ctx, r.now().Add(-r.lag)); err != nil {
				return err
			}
			next = time.Now().Add(r.every)
		}
	}
	return r.finish()
}

// consume takes the entries committed until deadline (or ctx's end).
func (r *Runner) consume(ctx context.Context, deadline time.Time) error {
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	rs, err := r.read(rctx)
	if err != nil && rctx.Err() == nil {
		return fmt.Errorf("oee: read buffer after seq %d: %w", r.cursor, err)
	}
	r.take(rs)
	return nil
}

// read reads the entries after the cursor into the last read's slice,
// which is free once taken: what take holds it copies.
func (r *Runner) read(ctx context.Context) ([]fb.Reading, error) {
	rs, err := r.store.ReadConsumer(ctx, r.readBuf, r.cursor, readBatch)
	if rs != nil {
		r.readBuf = rs
	}
	return rs, err
}

// take holds the readings of OEE nodes, and each connection event once the
// entries committed before it have been taken.
func (r *Runner) take(rs []fb.Reading) {
	for i := range rs {
		r.dueEvents(rs[i].Seq - 1)
		switch rs[i].Class {
		case fb.ClassReading:
			r.hold(&rs[i])
		case fb.ClassBackfill:
			r.holdBackfilled(&rs[i])
		}
		r.cursor = rs[i].Seq
	}
	r.dueEvents(r.cursor)
}

// checkpoint feeds the engine what is held up to at, ticks it to at and
// saves the state, the cursor and the records in one transaction. A failed
// save (a full disk) is logged once and retried at the next checkpoint with
// the records kept: the buffer keeps the readings after the saved cursor.
func (r *Runner) checkpoint(ctx context.Context, at time.Time) error {
	r.release(at)
	r.recs = r.eng.Tick(at, r.recs[:0])
	r.ticked = at
	r.noteLatest(r.recs)
	state, err := r.marshal(at)
	if err != nil {
		return err
	}
	if err := r.appendUnsaved(r.recs); err != nil {
		return err
	}
	err = r.store.SaveConsumer(ctx, Consumer, r.cursor, state, r.unsaved)
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

func (r *Runner) appendUnsaved(recs []oee.Record) error {
	entries, err := entries(recs)
	if err != nil {
		return err
	}
	r.unsaved = append(r.unsaved, entries...)
	if n := len(r.unsaved) - MaxUnsaved; n > 0 {
		r.unsaved = r.unsaved[n:]
	}
	return nil
}

// finish takes everything committed (the sources have stopped and the
// buffer was flushed) and saves, within finalTimeout.
func (r *Runner) finish() error {
	ctx, cancel := context.WithTimeout(context.Background(), finalTimeout)
	defer cancel()
	r.applyPending() // the state saved fits the options the next start reads
	for last := r.store.Stats().LastSeq; r.cursor < last && ctx.Err() == nil; {
		if err := r.consume(ctx, time.Now().Add(finalTimeout)); err != nil {
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

// entries turns records into buffer entries of class OEE.
func entries(recs []oee.Record) ([]fb.Reading, error) {
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

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
