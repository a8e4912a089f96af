package buffer

import (
	"context"
	"encoding/binary"

	fb "factorybridge"

	bolt "go.etcd.io/bbolt"
)

// maxReadPrealloc bounds the readings a read sizes its result for up front
// (232 bytes each): a larger max still works, growing by append.
const maxReadPrealloc = 8192

// ReadAfter appends to dst[:0] up to max committed readings with Seq >
// after, oldest first, blocking until there is at least one or ctx ends.
// Readings already acknowledged or dropped are skipped. A segment that
// fails its checksum is logged, counted and skipped. The result aliases
// dst when dst has room; the buffer keeps no reference to either.
func (b *Buffer) ReadAfter(ctx context.Context, dst []fb.Reading, after uint64, max int) ([]fb.Reading, error) {
	return b.readWait(ctx, dst, after, max, true)
}

// readWait appends to dst[:0] up to max committed readings after `after`,
// waiting for a commit while there are none; skipAcked skips what the
// publisher has acknowledged or the cap dropped.
func (b *Buffer) readWait(ctx context.Context, dst []fb.Reading, after uint64, max int, skipAcked bool) ([]fb.Reading, error) {
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
			rs, err := b.read(dst, after, last, max)
			if err != nil || len(rs) > 0 {
				return rs, err
			}
			dst = rs // keep what read allocated for the next try
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// read appends to dst[:0] up to max readings after `after` from segments
// that start at or before last, the last sequence the buffer counts as
// committed: the file holds a commit's segments before committed updates
// the counters, and a reading returned before then could not be
// acknowledged.
func (b *Buffer) read(dst []fb.Reading, after, last uint64, max int) ([]fb.Reading, error) {
	out := readSlice(dst, last-after, max)
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

// readSlice returns dst[:0] when it has room for the readings a read may
// return (at most avail, those committed after its start, and most), or a
// new empty slice with room for them. Appending into a nil slice instead
// grew it by doubling on every read: half the bytes a loaded bridge
// allocated. A new slice has at least twice dst's room, so a caller that
// passes its results back settles on one array after a few reads.
func readSlice(dst []fb.Reading, avail uint64, most int) []fb.Reading {
	limit := min(most, maxReadPrealloc)
	want := int(min(avail, uint64(max(limit, 0))))
	if cap(dst) >= want {
		return dst[:0]
	}
	return make([]fb.Reading, 0, min(limit, max(want, 2*cap(dst))))
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
