package buffer

import (
	"fmt"
	"strings"
	"testing"

	fb "factorybridge"
)

// TestSegmentsOfOneCommitKeepTheirBytes: a commit of several segments
// (its segment memory grows while bbolt holds the first ones), then
// commits that reuse that memory, read back intact.
func TestSegmentsOfOneCommitKeepTheirBytes(t *testing.T) {
	h := open(t, Options{Path: testPath(t)})
	var in []fb.Reading
	for round := range 3 {
		batch := loadReadings(12, 4)
		for i := range batch {
			text := fmt.Sprintf("%d/%d:", round, i) + strings.Repeat(string(rune('a'+i)), 100<<10)
			batch[i].Value = fb.TextValue(fb.TypeString, text)
		}
		h.append(batch) // 12 × 100 KiB: five segments in one transaction
		in = append(in, batch...)
	}
	got := h.readAll(0, 5)
	if len(got) != len(in) {
		t.Fatalf("read %d readings, want %d", len(got), len(in))
	}
	for i := range got {
		if got[i].Value.Str != in[i].Value.Str {
			t.Fatalf("reading %d = %.12q…, want %.12q…", i, got[i].Value.Str, in[i].Value.Str)
		}
	}
	if st := h.buf.Stats(); st.Committed != uint64(len(in)) {
		t.Fatalf("stats %+v", st)
	}
}

// TestSaveConsumerKeepsTheSpareArray: a consumer's save commits its
// records without giving up the array the pending readings take turns with.
func TestSaveConsumerKeepsTheSpareArray(t *testing.T) {
	h := open(t, Options{Path: testPath(t)})
	h.append(loadReadings(1000, 10))
	h.append(loadReadings(1000, 10)) // both arrays have held 1000 readings
	spare := func() int {
		h.buf.mu.Lock()
		defer h.buf.mu.Unlock()
		return cap(h.buf.spare)
	}
	before := spare()
	if before < 1000 {
		t.Fatalf("spare array of %d readings after two commits of 1000", before)
	}
	if _, _, err := h.buf.LoadConsumer("oee"); err != nil {
		t.Fatal(err)
	}
	recs := []fb.Reading{oeeEntry(`{"a":1}`)}
	h.save("oee", 2000, []byte("state"), recs)
	if got := spare(); got != before {
		t.Fatalf("spare array of %d readings after a save, want %d", got, before)
	}
	if recs[0].Value.Str != `{"a":1}` {
		t.Fatalf("the saved records were changed: %+v", recs[0])
	}
}
