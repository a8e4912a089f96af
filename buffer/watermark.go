package buffer

import (
	"encoding/binary"
	"sync"
	"time"

	fb "factorybridge"

	bolt "go.etcd.io/bbolt"
)

// bucketWatermarks maps a tracked reading name to the newest source time
// (OPC UA ticks, 8 bytes big-endian) committed for it. It is written in the
// transaction that commits the readings, so after a crash it says exactly
// which values of the node are in the file: an OPC UA client that fills
// gaps from the server's history starts its gap there.
var bucketWatermarks = []byte("watermarks")

var _ fb.Watermarks = (*Buffer)(nil)

// watermarks holds the tracked names and their committed watermarks.
type watermarks struct {
	mu      sync.Mutex
	tracked map[string]bool
	ticks   map[string]int64 // name → newest committed source time
}

// Track keeps, from the next commit on, the newest source time committed
// for readings named name (classes reading and backfill). Tracking costs a
// map lookup per committed reading and a bbolt put per tracked name and
// commit, so only names whose gaps are filled from history are tracked.
func (b *Buffer) Track(name string) {
	w := &b.marks
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tracked == nil {
		w.tracked = map[string]bool{}
	}
	w.tracked[name] = true
}

// Watermark returns the newest source time committed for name, as stored
// by this or an earlier run that tracked it; ok is false when there is
// none.
func (b *Buffer) Watermark(name string) (time.Time, bool) {
	w := &b.marks
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.ticks[name]
	return fb.TicksToTime(t), ok
}

// advances returns the tracked names whose newest source time in batch is
// beyond their watermark, with that time; nil when nothing is tracked.
func (w *watermarks) advances(batch []fb.Reading) map[string]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.tracked) == 0 {
		return nil
	}
	var adv map[string]int64
	for i := range batch {
		r := &batch[i]
		if !w.tracked[r.Name] || r.SourceTime.IsZero() || (r.Class != fb.ClassReading && r.Class != fb.ClassBackfill) {
			continue
		}
		t := fb.TimeToTicks(r.SourceTime)
		if t <= w.ticks[r.Name] || t <= adv[r.Name] {
			continue
		}
		if adv == nil {
			adv = map[string]int64{}
		}
		adv[r.Name] = t
	}
	return adv
}

// store writes the advanced watermarks in the commit's transaction.
func storeWatermarks(tx *bolt.Tx, adv map[string]int64) error {
	if len(adv) == 0 {
		return nil
	}
	bk, err := tx.CreateBucketIfNotExists(bucketWatermarks)
	if err != nil {
		return err
	}
	for name, t := range adv {
		if err := bk.Put([]byte(name), binary.BigEndian.AppendUint64(nil, uint64(t))); err != nil {
			return err
		}
	}
	return nil
}

// apply takes the watermarks of a commit that succeeded.
func (w *watermarks) apply(adv map[string]int64) {
	if len(adv) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, t := range adv {
		w.ticks[name] = max(w.ticks[name], t)
	}
}

// load reads the stored watermarks.
func (w *watermarks) load(tx *bolt.Tx) error {
	w.ticks = map[string]int64{}
	bk := tx.Bucket(bucketWatermarks)
	if bk == nil {
		return nil
	}
	return bk.ForEach(func(k, v []byte) error {
		if len(v) == 8 {
			w.ticks[string(k)] = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
}
