package buffer

import (
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
