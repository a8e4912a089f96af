package buffer

import (
	"context"
	"encoding/binary"

	fb "factorybridge"

	bolt "go.etcd.io/bbolt"
)

// ReadAfter returns up to max committed readings with Seq > after, oldest
// first, blocking until there is at least one or ctx ends. Readings already
// acknowledged or dropped are skipped. A segment that fails its checksum is
// logged, counted and skipped.
func (b *Buffer) ReadAfter(ctx context.Context, after uint64, max int) ([]fb.Reading, error) {
	return b.readWait(ctx, after, max, true)
}

// readWait returns up to max committed readings after `after`, waiting for
// a commit while there are none; skipAcked skips what the publisher has
// acknowledged or the cap dropped.
func (b *Buffer) readWait(ctx context.Context, after uint64, max int, skipAcked bool) ([]fb.Reading, error) {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return nil, ErrClosed
		}
		last, floor, wait := b.st.lastSeq, b.st.ackedStored, b.commitCh
		b.mu.Unlock()
		if skipAcked {
			after = maxU(after, floor)
		}
		if last > after {
			if rs, err := b.read(after, last, max); err != nil || len(rs) > 0 {
				return rs, err
			}
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// read returns up to max readings after `after` from segments that start at
// or before last, the last sequence the buffer counts as committed: the
// file holds a commit's segments before committed updates the counters,
// and a reading returned before then could not be acknowledged.
func (b *Buffer) read(after, last uint64, max int) ([]fb.Reading, error) {
	var out []fb.Reading
	origins := b.dict.snapshot()
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSegments).Cursor()
		k, v := segmentAt(c, after+1)
		for ; k != nil && len(out) < max && seqFromKey(k) <= last; k, v = c.Next() {
			var err error
			first := seqFromKey(k)
			out, err = decodeSegment(out, v, origins, first, after, max-len(out))
			if err != nil {
				b.noteCorrupt(first, err)
			}
			b.mapped.note(len(v))
		}
		return nil
	})
	return out, err
}

// segmentAt positions c on the segment holding seq, or the first segment
// after it when seq is gone.
func segmentAt(c *bolt.Cursor, seq uint64) (k, v []byte) {
	k, v = c.Seek(seqKey(seq))
	if k != nil && seqFromKey(k) == seq {
		return k, v
	}
	pk, pv := c.Prev()
	if pk == nil {
		return c.First()
	}
	if info, _, err := readHeader(pv); err == nil && seqFromKey(pk)+info.count > seq {
		return pk, pv
	}
	return c.Next()
}

func (b *Buffer) noteCorrupt(first uint64, err error) {
	b.mu.Lock()
	b.st.corrupt++
	b.mu.Unlock()
	b.log.Error("buffer segment is corrupt; its readings are skipped", "first_seq", first, "err", err)
}

func seqFromKey(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
