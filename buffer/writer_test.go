package buffer

import (
	"testing"

	fb "factorybridge"
)

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
