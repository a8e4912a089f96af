package buffer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	fb "factorybridge"

	bolt "go.etcd.io/bbolt"
)

// A consumer is a reader of the buffer besides the publisher — the OEE
// engine — that keeps its own position (cursor) and state in the file. The
// cursor holds deletion back: a segment is deleted only once the publisher
// acknowledged it and every registered consumer's stored cursor passed it,
// so a restart finds every reading a consumer has not yet accounted. Only
// the buffer cap (MaxBytes) deletes segments a consumer still needs.

// bucketConsumers maps a consumer's name to its cursor (8 bytes,
// big-endian) followed by its state.
var bucketConsumers = []byte("consumers")

// consumers is what the writer knows of the registered consumers.
type consumers struct {
	save chan *saveRequest // SaveConsumer requests, served by Run

	mu      sync.Mutex
	cursors map[string]uint64 // registered consumers' stored cursors
}

func newConsumers() consumers {
	return consumers{save: make(chan *saveRequest), cursors: map[string]uint64{}}
}

// set records name's cursor and returns the previous one.
func (c *consumers) set(name string, cursor uint64) (old uint64, had bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, had = c.cursors[name]
	c.cursors[name] = cursor
	return old, had
}

func (c *consumers) unset(name string) {
	c.mu.Lock()
	delete(c.cursors, name)
	c.mu.Unlock()
}

// floor is the lowest registered cursor: segments beyond it are kept.
func (c *consumers) floor() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	low := uint64(math.MaxUint64)
	for _, cur := range c.cursors {
		low = min(low, cur)
	}
	return low
}

// saveRequest is one SaveConsumer call for the writer goroutine.
type saveRequest struct {
	name    string
	cursor  uint64
	state   []byte
	records []fb.Reading
	reply   chan error
}

// LoadConsumer returns the cursor and state SaveConsumer last stored for
// name (0 and nil when none: the consumer starts at the oldest reading
// stored), and registers name, so that from now on the readings after its
// cursor are kept for it. Call it before the consumer's first read.
func (b *Buffer) LoadConsumer(name string) (cursor uint64, state []byte, err error) {
	err = b.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketConsumers)
		if bk == nil {
			return nil
		}
		v := bk.Get([]byte(name))
		if v == nil {
			return nil
		}
		if len(v) < 8 {
			return fmt.Errorf("consumer %s: %d bytes stored", name, len(v))
		}
		cursor, state = binary.BigEndian.Uint64(v), slices.Clone(v[8:])
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("load buffer consumer: %w", err)
	}
	b.cons.set(name, cursor)
	return cursor, state, nil
}

// SaveConsumer stores name's cursor and state and commits records (new
// entries, such as OEE records, that get sequence numbers) in one
// transaction, so that the state, the position it accounts for and what it
// emitted are never out of step. It runs on Run's goroutine and returns once
// committed. records is not kept.
func (b *Buffer) SaveConsumer(ctx context.Context, name string, cursor uint64, state []byte, records []fb.Reading) error {
	// When ctx ends first, the writer may still read the request after this
	// returns and the caller reuses records: the request holds a copy.
	req := &saveRequest{name: name, cursor: cursor, state: state, records: slices.Clone(records),
		reply: make(chan error, 1)}
	select {
	case b.cons.save <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// saveConsumer serves a SaveConsumer request on the writer goroutine. The
// new cursor counts for trimming inside the same transaction, so segments
// it passed go with the commit that stores it.
func (b *Buffer) saveConsumer(r *saveRequest) error {
	b.mu.Lock()
	ack, last, closed := b.st.ackTarget, b.st.lastSeq, b.closed
	b.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case r.cursor > last:
		return fmt.Errorf("save buffer consumer %s: cursor %d beyond the last committed sequence %d", r.name, r.cursor, last)
	}
	old, had := b.cons.set(r.name, r.cursor)
	batch := r.records
	var res commitResult
	err := b.updateTx(func(tx *bolt.Tx) (err error) {
		if err := putConsumer(tx, r.name, r.cursor, r.state); err != nil {
			return err
		}
		res, err = b.write(tx, batch, ack)
		return err
	})
	if err != nil {
		b.restoreCursor(r.name, old, had)
		return fmt.Errorf("save buffer consumer %s: %w", r.name, err)
	}
	b.committed(batch, res)
	return nil
}

func (b *Buffer) restoreCursor(name string, old uint64, had bool) {
	if had {
		b.cons.set(name, old)
	} else {
		b.cons.unset(name)
	}
}

func putConsumer(tx *bolt.Tx, name string, cursor uint64, state []byte) error {
	if name == "" {
		return errors.New("consumer name is empty")
	}
	bk, err := tx.CreateBucketIfNotExists(bucketConsumers)
	if err != nil {
		return err
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(state)), cursor)
	return bk.Put([]byte(name), append(v, state...))
}

// ReadConsumer is ReadAfter for a consumer: it appends to dst[:0] up to max
// committed entries with Seq > after, oldest first, blocking until there is
// one or ctx ends; the result aliases dst when dst has room. Unlike
// ReadAfter it does not skip what the publisher has acknowledged, which the
// consumer's cursor keeps in the file. When entries after `after` were
// dropped (buffer cap), it returns the oldest that remain.
func (b *Buffer) ReadConsumer(ctx context.Context, dst []fb.Reading, after uint64, max int) ([]fb.Reading, error) {
	return b.readWait(ctx, dst, after, max, false)
}
