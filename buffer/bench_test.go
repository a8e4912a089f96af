package buffer

import (
	"context"
	"testing"
)

// BenchmarkThroughput measures the durable path: Append in batches the size
// of an OPC UA publish response, group commit with fsync, ReadAfter and Ack
// by a concurrent reader, as the publisher does.
func BenchmarkThroughput(b *testing.B) {
	h := open(b, Options{Path: testPath(b)})
	batch := loadReadings(500, 100)
	total := uint64(b.N) * uint64(len(batch))
	readDone := make(chan uint64)
	go func() {
		var after uint64
		for after < total {
			rs, err := h.buf.ReadAfter(context.Background(), after, 4096)
			if err != nil {
				break
			}
			after = rs[len(rs)-1].Seq
			_ = h.buf.Ack(after)
		}
		readDone <- after
	}()
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if err := h.buf.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if got := <-readDone; got != total {
		b.Fatalf("read %d of %d", got, total)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "readings/s")
}
