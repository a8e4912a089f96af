package pubtest

import (
	"fmt"
	"testing"

	"factorybridge"
	"factorybridge/publisher/wire"
)

// CheckDelivery checks that every reading in want (whose Seq are 1…len)
// arrived with its content, in order per node; seqs above dupAfter may
// arrive again (they were in flight during a failure), others only once.
func CheckDelivery(t testing.TB, msgs []*wire.Message, want []factorybridge.Reading, dupAfter uint64) {
	t.Helper()
	seen := make([]bool, len(want)+1)
	lastByNode := map[string]uint64{}
	for _, m := range msgs {
		for i := range m.Readings {
			r := &m.Readings[i]
			if r.Seq == 0 || r.Seq > uint64(len(want)) {
				t.Fatalf("unexpected seq %d", r.Seq)
			}
			if seen[r.Seq] {
				if r.Seq <= dupAfter {
					t.Errorf("seq %d arrived twice; only seqs above %d may", r.Seq, dupAfter)
				}
				continue
			}
			seen[r.Seq] = true
			if last := lastByNode[r.Name]; r.Seq < last {
				t.Errorf("node %s: seq %d arrived after %d", r.Name, r.Seq, last)
			}
			lastByNode[r.Name] = r.Seq
			if got, exp := FlatJSON(r), FlatJSON(&want[r.Seq-1]); got != exp {
				t.Errorf("seq %d:\n got %s\nwant %s", r.Seq, got, exp)
			}
		}
	}
	for seq := 1; seq <= len(want); seq++ {
		if !seen[seq] {
			t.Fatalf("seq %d never arrived", seq)
		}
	}
}

// FlatJSON is r in the flat encoding: a canonical form to compare by.
func FlatJSON(r *factorybridge.Reading) string { return string(wire.AppendFlatReading(nil, r)) }

// Truncate shows the first 500 bytes of a message and its size.
func Truncate(b []byte) string {
	if len(b) > 500 {
		return fmt.Sprintf("%s… (%d bytes)", b[:500], len(b))
	}
	return string(b)
}
