package buffer

import (
	"context"
	"fmt"
	"time"

	fb "factorybridge"

	bolt "go.etcd.io/bbolt"
)

// Run is the buffer's single writer: it group-commits pending readings every
// CommitInterval (or sooner when CommitMaxReadings wait) and applies
// acknowledgements. When ctx ends it commits what is pending and returns.
// A failing commit (disk full, read-only) keeps the readings pending, logs
// once, and is retried on the next tick.
func (b *Buffer) Run(ctx context.Context) error {
	tick := time.NewTicker(b.opts.CommitInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return b.commit()
		case <-tick.C:
		case <-b.kick:
		case reply := <-b.flush:
			reply <- b.commit()
			continue
		case req := <-b.cons.save:
			req.reply <- b.saveConsumer(req)
			continue
		}
		_ = b.commit() // failures are logged once per episode by commit
		b.dropMapped(time.Now())
	}
}

// Flush waits until every reading appended before the call is committed.
// It needs Run to be running.
func (b *Buffer) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case b.flush <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commitResult is what one transaction changed, applied to state after it
// committed.
type commitResult struct {
	lastSeq, ackedStored, bytes, dropped uint64
	marks                                map[string]int64 // advanced watermarks (watermark.go)
}

func (b *Buffer) commit() error {
	b.mu.Lock()
	if len(b.pending) == 0 && b.st.ackTarget <= b.st.ackedStored {
		b.mu.Unlock()
		return nil
	}
	batch, ack := b.pending, b.st.ackTarget
	b.pending = b.spare[:0]
	if b.st.failing {
		b.retrying = len(batch)
	}
	b.mu.Unlock()
	var res commitResult
	err := b.updateTx(func(tx *bolt.Tx) (err error) {
		res, err = b.write(tx, batch, ack)
		if injected := b.failCommit.Load(); injected != nil && err == nil {
			err = *injected
		}
		return err
	})
	if err != nil {
		b.commitFailed(batch, err)
		return fmt.Errorf("commit %d readings to %s: %w", len(batch), b.opts.Path, err)
	}
	b.committed(batch, res)
	b.recycle(batch)
	return nil
}

// recycle keeps the array of a committed batch for the pending readings
// after the ones now pending, so that in steady state the two arrays take
// turns and appending allocates nothing.
func (b *Buffer) recycle(batch []fb.Reading) {
	clear(batch) // let go of the readings' strings
	b.mu.Lock()
	b.spare = batch[:0]
	b.mu.Unlock()
}

// write stores batch as segments, drops the oldest segments while over the
// cap, deletes acknowledged segments and updates the counters.
func (b *Buffer) write(tx *bolt.Tx, batch []fb.Reading, ack uint64) (commitResult, error) {
	meta, segs := tx.Bucket(bucketMeta), tx.Bucket(bucketSegments)
	b.segs = b.segs[:0] // the last transaction has ended: bbolt let go of its values
	res := commitResult{
		lastSeq:     getUint(meta, keyNext) - 1,
		ackedStored: max(getUint(meta, keyAcked), ack),
		bytes:       getUint(meta, keyBytes),
		marks:       b.marks.advances(batch),
	}
	now := b.opts.Now()
	for len(batch) > 0 {
		n, seg := b.encodeSegment(batch, now)
		if err := segs.Put(seqKey(res.lastSeq+1), seg); err != nil {
			return res, err
		}
		res.lastSeq += uint64(n)
		res.bytes += uint64(len(seg))
		b.mapped.note(len(seg)) // bbolt copies the last leaf's values from the mapping
		batch = batch[n:]
	}
	if err := b.dict.store(tx); err != nil {
		return res, err
	}
	if err := storeWatermarks(tx, res.marks); err != nil {
		return res, err
	}
	if err := b.trim(segs, &res); err != nil {
		return res, err
	}
	for _, kv := range []struct {
		k []byte
		v uint64
	}{{keyNext, res.lastSeq + 1}, {keyAcked, res.ackedStored}, {keyBytes, res.bytes}} {
		if err := putUint(meta, kv.k, kv.v); err != nil {
			return res, err
		}
	}
	return res, nil
}

// encodeSegment encodes a prefix of batch that fits one segment and returns
// how many readings it holds and the segment's bytes. bbolt keeps a
// reference to a value until the transaction ends (Bucket.Put's doc), so
// each segment of a transaction has its own part of b.segs, which is
// reused by the next transaction instead of a new copy per segment. When
// b.segs grows, the segments already put keep the old array.
func (b *Buffer) encodeSegment(batch []fb.Reading, now time.Time) (int, []byte) {
	b.enc.reset(now)
	n := 0
	for n < len(batch) && (n == 0 || len(b.enc.buf) < segmentMaxBytes) {
		b.enc.add(&batch[n])
		n++
	}
	start := len(b.segs)
	b.segs = b.enc.appendSegment(b.segs)
	return n, b.segs[start:len(b.segs):len(b.segs)]
}

// trim deletes segments that are fully acknowledged and consumed by every
// consumer (consumer.go), then the oldest segments while the total is over
// MaxBytes (keeping the newest one).
func (b *Buffer) trim(segs *bolt.Bucket, res *commitResult) error {
	c, held := segs.Cursor(), b.cons.floor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		first := seqFromKey(k)
		info, _, err := readHeader(v)
		last := first + info.count - 1
		done := min(res.ackedStored, held)
		acked := last <= done
		if err != nil {
			// A damaged header: readers skip the segment, so it goes once
			// anything at or past its start is acknowledged.
			last, acked = first, first <= done
		}
		over := res.bytes > uint64(b.opts.MaxBytes) && last < res.lastSeq
		if !acked && !over {
			return nil
		}
		if !acked && last > res.ackedStored { // not when only a consumer held it
			res.dropped += last - max(res.ackedStored, first-1)
			res.ackedStored = last
		}
		res.bytes -= min(res.bytes, uint64(len(v)))
		b.mapped.note(len(v)) // and the first leaf's, to delete
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

func (b *Buffer) committed(batch []fb.Reading, res commitResult) {
	if b.opts.OnCommit != nil {
		b.opts.OnCommit(batch)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.committed += uint64(len(batch))
	b.retrying = 0
	b.st.lastSeq, b.st.ackedStored, b.st.bytes = res.lastSeq, res.ackedStored, res.bytes
	b.st.dropped += res.dropped
	b.noteDrops(res.dropped)
	b.marks.apply(res.marks)
	if b.st.failing {
		b.st.failing = false
		b.log.Info("buffer commits succeed again", "path", b.opts.Path)
	}
	close(b.commitCh)
	b.commitCh = make(chan struct{})
}

// noteDrops logs one line when a buffer-full episode starts and one when
// the buffer is back under 90 % of its cap.
func (b *Buffer) noteDrops(dropped uint64) {
	switch {
	case dropped > 0 && !b.st.dropping:
		b.st.dropping, b.st.episode = true, dropped
		b.log.Warn("buffer full: dropping the oldest unacknowledged readings",
			"path", b.opts.Path, "max_bytes", b.opts.MaxBytes)
	case dropped > 0:
		b.st.episode += dropped
	case b.st.dropping && b.st.bytes < uint64(b.opts.MaxBytes)/10*9:
		b.log.Warn("buffer below its cap again", "path", b.opts.Path,
			"dropped", b.st.episode, "dropped_total", b.st.dropped)
		b.st.dropping, b.st.episode = false, 0
	}
}

// commitFailed puts the batch back in front of what arrived meanwhile.
func (b *Buffer) commitFailed(batch []fb.Reading, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = append(batch, b.pending...)
	b.retrying = 0
	if !b.st.failing {
		b.st.failing = true
		b.log.Error("buffer commit failed; readings stay pending and new ones wait",
			"path", b.opts.Path, "pending", len(b.pending), "err", err)
	}
}

// updateTx runs fn in a write transaction and settles the origin dictionary:
// the origins fn added are kept when the transaction commits and forgotten
// when it fails, so their numbers are given again.
func (b *Buffer) updateTx(fn func(*bolt.Tx) error) error {
	err := b.db.Update(fn)
	if err != nil {
		b.dict.rollback()
	} else {
		b.dict.committed()
	}
	return err
}
