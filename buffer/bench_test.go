package buffer

import (
	"context"
	"runtime"
	"testing"

	fb "factorybridge"
)

// BenchmarkThroughput measures the durable path: Append in batches the size
// of an OPC UA publish response, group commit with fsync, ReadAfter and Ack
// by a concurrent reader, as the publisher does. B/reading is the bytes
// allocated per reading by the whole path (writer, reader and Append),
// which is what the garbage collector pays for.
func BenchmarkThroughput(b *testing.B) {
	h := open(b, Options{Path: testPath(b)})
	batch := loadReadings(500, 100)
	total := uint64(b.N) * uint64(len(batch))
	readDone := make(chan uint64)
	go func() {
		var after uint64
		var rs []fb.Reading
		for after < total {
			var err error
			rs, err = h.buf.ReadAfter(context.Background(), rs, after, 4096)
			if err != nil {
				break
			}
			after = rs[len(rs)-1].Seq
			_ = h.buf.Ack(after)
		}
		readDone <- after
	}()
	ctx := context.Background()
	b.ReportAllocs()
	alloc0 := totalAlloc()
	b.ResetTimer()
	for range b.N {
		if err := h.buf.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if got := <-readDone; got != total {
		b.Fatalf("read %d of %d", got, total)
	}
	b.StopTimer()
	b.ReportMetric(float64(totalAlloc()-alloc0)/float64(total), "B/reading")
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "readings/s")
}

// totalAlloc is the bytes allocated by the process so far.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}
