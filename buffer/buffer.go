// Package buffer is factorybridge's durability boundary: a store-and-forward
// queue of readings in a bbolt file. Readings are appended in group commits
// (fsync on), become visible to readers only once committed, are read oldest
// first, and are deleted only when the publisher acknowledges them. The
// file is bounded: when full, the oldest readings are dropped and counted.
package buffer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	fb "factorybridge"

	bolt "go.etcd.io/bbolt"
)

// Defaults for Options' zero values.
const (
	DefaultCommitInterval    = 20 * time.Millisecond
	DefaultCommitMaxReadings = 4096
	DefaultMaxBytes          = 1 << 30
	DefaultLockWait          = time.Second
	// segmentMaxBytes splits a large group commit into several bbolt values
	// so one value never grows beyond a few hundred KiB.
	segmentMaxBytes = 256 << 10
)

// ErrClosed is returned by calls on a closed buffer.
var ErrClosed = errors.New("buffer closed")

// Options configure a Buffer. Zero values take the defaults above.
type Options struct {
	// Path of the bbolt file. Required.
	Path string
	// MaxBytes caps the stored segments' total size (default 1 GiB).
	MaxBytes int64
	// CommitInterval is the longest a reading waits for its commit (default 20 ms).
	CommitInterval time.Duration
	// CommitMaxReadings commits early when this many readings wait (default 4096).
	CommitMaxReadings int
	// PendingLimit bounds readings waiting for commit; Append blocks beyond
	// it (default 2 × CommitMaxReadings: one commit's worth being committed
	// while the next gathers; each of the two pending arrays costs 232
	// bytes a reading, 1.9 MB at the default).
	PendingLimit int
	// LockWait is how long Open waits for another process's lock (default 1 s).
	LockWait time.Duration
	// Logger receives the buffer's log lines (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnCommit, when set, is called on the writer goroutine with each
	// batch of readings just committed, in order (their Seq fields are
	// not set), so that a watcher can count them without a hook on every
	// Append. It must not keep the slice, block, or call the Buffer.
	OnCommit func(batch []fb.Reading)
}

// Buffer is a durable FIFO of readings. Open it, run Run in one goroutine,
// feed it with Append, drain it with ReadAfter and Ack, and Close it after
// Run has returned.
type Buffer struct {
	opts Options
	db   *bolt.DB
	log  *slog.Logger
	enc  encoder
	segs []byte // the segments of the transaction being written (writer.go)
	dict dictionary
	// marks are the watermarks of tracked readings (watermark.go).
	marks watermarks
	// mapped bounds the file's pages mapped into the process (mapped.go).
	mapped mapDropper

	kick  chan struct{}   // pending reached CommitMaxReadings
	flush chan chan error // Flush requests
	cons  consumers       // consumers' cursors and save requests (consumer.go)

	mu       sync.Mutex
	pending  []fb.Reading
	spare    []fb.Reading
	retrying int           // readings of the commit in progress while commits fail
	commitCh chan struct{} // closed and replaced after every commit
	closed   bool
	st       state

	// failCommit, when a test stores an error in it, fails every commit with
	// that error after the transaction's writes, as a full or read-only disk
	// does; the transaction rolls back.
	failCommit atomic.Pointer[error]
}

// state is the buffer's view of what is committed, guarded by mu.
type state struct {
	lastSeq     uint64 // highest committed sequence
	ackedStored uint64 // highest sequence acknowledged or dropped, as stored
	ackTarget   uint64 // highest sequence the publisher acknowledged
	bytes       uint64 // stored segment bytes
	committed   uint64
	acked       uint64
	dropped     uint64
	corrupt     uint64
	dropping    bool   // inside a buffer-full episode
	episode     uint64 // readings dropped in the current episode
	failing     bool   // commits are failing (disk trouble)
}

var _ fb.Queue = (*Buffer)(nil)
var _ fb.Sink = (*Buffer)(nil)

// Open opens or creates the buffer file. A file held by another process
// fails at once with ErrLocked; a corrupt file is moved aside.
func Open(opts Options) (*Buffer, error) {
	opts = withDefaults(opts)
	if opts.Path == "" {
		return nil, errors.New("open buffer: no path")
	}
	db, err := openStore(opts.Path, opts.LockWait, opts.Logger)
	if err != nil {
		return nil, err
	}
	b := &Buffer{
		opts: opts, db: db, log: opts.Logger,
		kick: make(chan struct{}, 1), flush: make(chan chan error), cons: newConsumers(),
		commitCh: make(chan struct{}), mapped: mapDropper{afterBytes: dropAfterBytes},
	}
	b.enc.dict = &b.dict
	if err := b.load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open buffer %s: %w", opts.Path, err)
	}
	// Opening walked the whole tree (freelist, checks): release its pages.
	b.dropMapped(time.Now())
	return b, nil
}

func withDefaults(o Options) Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.CommitInterval <= 0 {
		o.CommitInterval = DefaultCommitInterval
	}
	if o.CommitMaxReadings <= 0 {
		o.CommitMaxReadings = DefaultCommitMaxReadings
	}
	if o.PendingLimit <= 0 {
		o.PendingLimit = 2 * o.CommitMaxReadings
	}
	if o.LockWait <= 0 {
		o.LockWait = DefaultLockWait
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// load reads the stored counters.
func (b *Buffer) load() error {
	return b.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		next := getUint(meta, keyNext)
		if next == 0 {
			return errors.New("meta: next sequence missing")
		}
		b.st.lastSeq = next - 1
		b.st.ackedStored = getUint(meta, keyAcked)
		b.st.ackTarget = b.st.ackedStored
		b.st.bytes = getUint(meta, keyBytes)
		if err := b.marks.load(tx); err != nil {
			return err
		}
		return b.dict.load(tx)
	})
}

// Append queues readings for the next group commit. It blocks while more
// than PendingLimit readings wait (backpressure) and returns ctx.Err() if
// ctx ends first. While commits fail, the batch being retried counts as
// waiting, so the readings held in memory stay bounded. It does not wait
// for the commit: use Flush for that.
func (b *Buffer) Append(ctx context.Context, readings []fb.Reading) error {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return ErrClosed
		}
		if waiting := len(b.pending) + b.retrying; waiting == 0 || waiting+len(readings) <= b.opts.PendingLimit {
			b.pending = append(b.pending, readings...)
			full := len(b.pending) >= b.opts.CommitMaxReadings
			b.mu.Unlock()
			if full {
				b.signalKick()
			}
			return nil
		}
		wait := b.commitCh
		b.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *Buffer) signalKick() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Ack records that every reading with Seq <= seq reached the hub. They are
// deleted at the next commit. Acknowledging beyond the last committed
// reading is an error.
func (b *Buffer) Ack(seq uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if seq > b.st.lastSeq {
		return fmt.Errorf("ack %d: beyond last committed sequence %d", seq, b.st.lastSeq)
	}
	if floor := max(b.st.ackTarget, b.st.ackedStored); seq > floor {
		b.st.acked += seq - floor
	}
	b.st.ackTarget = max(b.st.ackTarget, seq)
	return nil
}

// Stats returns the buffer's counters now.
func (b *Buffer) Stats() fb.BufferStats {
	b.mu.Lock()
	st := b.st
	b.mu.Unlock()
	floor := max(st.ackTarget, st.ackedStored)
	s := fb.BufferStats{
		Depth: st.lastSeq - floor, Bytes: st.bytes, Committed: st.committed,
		Acked: st.acked, Dropped: st.dropped, LastSeq: st.lastSeq,
	}
	if s.Depth > 0 {
		if t, ok := b.oldestCommit(floor); ok {
			s.OldestAge = b.opts.Now().Sub(t)
		}
	}
	return s
}

// oldestCommit returns the commit time of the segment holding floor+1.
func (b *Buffer) oldestCommit(floor uint64) (t time.Time, ok bool) {
	_ = b.db.View(func(tx *bolt.Tx) error {
		_, v := segmentAt(tx.Bucket(bucketSegments).Cursor(), floor+1)
		if info, _, err := readHeader(v); err == nil {
			t, ok = info.commit, true
		}
		return nil
	})
	return t, ok
}

// Close commits what is pending, persists the last acknowledgements and
// closes the file. Call it after Run has returned.
func (b *Buffer) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	cerr := b.commit()
	b.mu.Lock()
	b.closed = true
	close(b.commitCh)
	b.mu.Unlock()
	err := b.db.Update(func(tx *bolt.Tx) error {
		return putUint(tx.Bucket(bucketMeta), keyClean, 1)
	})
	return errors.Join(cerr, err, b.db.Close())
}
