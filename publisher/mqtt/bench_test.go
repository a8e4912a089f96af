package mqtt

import (
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// BenchmarkPublish measures the whole publisher against the embedded broker
// on loopback: b.N readings from an in-memory queue until all are
// acknowledged. Broker and publisher share the machine's cores.
func BenchmarkPublish(b *testing.B) {
	for _, enc := range []string{wire.EncodingCompact, wire.EncodingFlat} {
		b.Run(enc, func(b *testing.B) {
			br := startBroker(b)
			br.rec.ignore.Store(true)
			q := pubtest.NewMemQueue()
			src := pubtest.Readings(pubtest.Nodes(200), 10_000) // typical PLC readings
			rs := make([]fb.Reading, b.N)
			for i := range rs {
				rs[i] = src[i%len(src)]
			}
			last := q.Append(rs...)
			opts := testOptions(b, br.url(), q)
			opts.Encoding = enc
			opts.MaxMessageBytes = DefaultMaxMessageBytes
			opts.MaxInflight = DefaultMaxInflight
			opts.MaxBatchDelay = DefaultMaxBatchDelay
			b.ResetTimer()
			cpu0 := pubtest.CPUTime()
			runPublisher(b, opts)
			q.WaitAcked(b, last, time.Minute)
			pubtest.ReportRates(b, cpu0)
		})
	}
}
