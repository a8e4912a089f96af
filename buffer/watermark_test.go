package buffer

import (
	"testing"
	"time"

	fb "factorybridge"
)

// TestWatermarkSurvivesReopen checks that a tracked name's newest committed
// source time is kept across a reopen, that heartbeats (old values sent
// again) and untracked names do not move it, and that classes survive the
// segment encoding.
func TestWatermarkSurvivesReopen(t *testing.T) {
	path := testPath(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	r := func(name string, class fb.Class, s int) fb.Reading {
		return fb.Reading{Name: name, Class: class, SourceTime: at(s), Value: fb.UintValue(fb.TypeUInt64, uint64(s))}
	}
	h := open(t, Options{Path: path})
	h.buf.Track("a")
	h.append([]fb.Reading{r("a", fb.ClassReading, 5), r("a", fb.ClassBackfill, 3), r("b", fb.ClassReading, 9)})
	h.append([]fb.Reading{r("a", fb.ClassHeartbeat, 60), r("a", fb.ClassEvent, 70), r("a", fb.ClassBackfill, 7)})
	if got, ok := h.buf.Watermark("a"); !ok || !got.Equal(at(7)) {
		t.Fatalf("watermark of a = %v, %v; want %v", got, ok, at(7))
	}
	if _, ok := h.buf.Watermark("b"); ok {
		t.Error("b is not tracked but has a watermark")
	}
	classes := map[fb.Class]bool{}
	for _, x := range h.readAll(0, 100) {
		classes[x.Class] = true
	}
	for _, c := range []fb.Class{fb.ClassReading, fb.ClassBackfill, fb.ClassHeartbeat, fb.ClassEvent} {
		if !classes[c] {
			t.Errorf("class %d lost in the segment encoding", c)
		}
	}
	h.close()

	h = open(t, Options{Path: path})
	if got, ok := h.buf.Watermark("a"); !ok || !got.Equal(at(7)) {
		t.Fatalf("after reopen: watermark of a = %v, %v; want %v", got, ok, at(7))
	}
}
