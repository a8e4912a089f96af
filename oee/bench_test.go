package oee_test

import (
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
)

// BenchmarkObserve measures the cost the engine adds per reading: a
// Connected Factory station's counters, state and cycle time, 10 ms apart
// in source time, with a tick every simulated second.
func BenchmarkObserve(b *testing.B) {
	e := newEngine(b, parseConfig(b, workedConfig))
	start := time.Date(2024, 3, 4, 6, 0, 0, 0, time.UTC)
	rs := []fb.Reading{
		reading("l", "s", "Status", start, fb.UintValue(fb.TypeUInt32, 1)),
		reading("l", "s", "Total", start, fb.UintValue(fb.TypeUInt64, 0)),
		reading("l", "s", "Reject", start, fb.UintValue(fb.TypeUInt64, 0)),
		reading("l", "s", "Unrelated", start, fb.FloatValue(fb.TypeDouble, 1)),
	}
	var recs []oee.Record
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := &rs[i%len(rs)]
		r.SourceTime = start.Add(time.Duration(i) * 10 * time.Millisecond)
		if r.Value.Type == fb.TypeUInt64 {
			r.Value.Bits += uint64(i % 2)
		}
		e.Observe(r)
		if i%100 == 99 {
			recs = e.Tick(r.SourceTime, recs[:0])
		}
	}
}
