package buffer

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	fb "factorybridge"
)

// TestOnCommit: the hook sees every committed reading once, with its
// fields intact, and Stats agrees with it.
func TestOnCommit(t *testing.T) {
	var seen, line1 atomic.Uint64
	h := open(t, Options{Path: filepath.Join(t.TempDir(), "b.db"), OnCommit: func(batch []fb.Reading) {
		seen.Add(uint64(len(batch)))
		for i := range batch {
			if batch[i].Line == "line1" {
				line1.Add(1)
			}
		}
	}})
	h.append(loadReadings(1000, 10))
	h.append(loadReadings(234, 3))
	if got, want := seen.Load(), h.buf.Stats().Committed; got != want || got != 1234 {
		t.Errorf("OnCommit saw %d readings, Stats().Committed = %d, want 1234", got, want)
	}
	if got := line1.Load(); got != 1234 {
		t.Errorf("OnCommit saw %d readings of line1, want 1234", got)
	}
}

// TestReadStopsAtCommittedState: between a transaction's commit and the
// update of the buffer's counters (OnCommit runs there), a reader must not
// return readings the buffer does not yet count as committed, or their Ack
// fails ("beyond last committed sequence") and stops the publisher.
func TestReadStopsAtCommittedState(t *testing.T) {
	inHook, release := make(chan struct{}), make(chan struct{})
	var hold atomic.Bool
	h := open(t, Options{Path: filepath.Join(t.TempDir(), "b.db"), OnCommit: func([]fb.Reading) {
		if hold.Load() {
			inHook <- struct{}{}
			<-release
		}
	}})
	h.append(loadReadings(100, 10))
	hold.Store(true)
	if err := h.buf.Append(context.Background(), loadReadings(50, 10)); err != nil {
		t.Fatal(err)
	}
	<-inHook // the second batch is in the file; Stats does not count it yet
	rs, err := h.buf.ReadAfter(context.Background(), nil, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := rs[len(rs)-1].Seq
	ackErr := h.buf.Ack(last)
	hold.Store(false)
	close(release)
	if last != 100 || ackErr != nil {
		t.Errorf("read through seq %d while 100 were counted as committed (ack: %v); want 100 and no error", last, ackErr)
	}
}
