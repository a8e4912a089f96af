package publisher

import (
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/config"
)

// benchReadings are typical PLC readings: 200 nodes of assorted types.
func benchReadings() []fb.Reading { return testReadings(testNodes(200), 10_000) }

// BenchmarkEncode measures packing readings into messages of the default
// size, the publisher's hot path without the network: readings/s and
// bytes/reading of the messages produced.
func BenchmarkEncode(b *testing.B) {
	for _, enc := range []string{EncodingCompact, EncodingFlat} {
		b.Run(enc, func(b *testing.B) {
			rs := benchReadings()
			pk := newPacker("bridge-1", enc, config.DefaultMaxMessageBytes)
			buf := make([]byte, 0, config.DefaultMaxMessageBytes)
			now := time.Now()
			var bytes, seq int
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				r := &rs[i%len(rs)]
				seq++
				r.Seq = uint64(seq)
				bld := pk.get("t")
				if bld == nil {
					bld = pk.start("t", now)
				}
				if !pk.add(bld, r) {
					buf = pk.finish(bld, buf[:0])
					bytes += len(buf)
					bld = pk.start("t", now)
					pk.add(bld, r)
				}
			}
			if bld := pk.get("t"); bld != nil {
				bytes += len(pk.finish(bld, buf[:0]))
			}
			reportRates(b, cpu0)
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/reading")
		})
	}
}

// BenchmarkPublish measures the whole publisher against the embedded broker
// on loopback: b.N readings from an in-memory queue until all are
// acknowledged. Broker and publisher share the machine's cores.
func BenchmarkPublish(b *testing.B) {
	for _, enc := range []string{EncodingCompact, EncodingFlat} {
		b.Run(enc, func(b *testing.B) {
			br := startBroker(b)
			br.rec.ignore.Store(true)
			q := newMemQueue()
			src := benchReadings()
			rs := make([]fb.Reading, b.N)
			for i := range rs {
				rs[i] = src[i%len(src)]
			}
			last := q.append(rs...)
			cfg := testConfig(br.url())
			cfg.Encoding = enc
			cfg.MaxMessageBytes = config.DefaultMaxMessageBytes
			cfg.MaxInflight = config.DefaultMaxInflight
			cfg.MaxBatchDelay = config.Duration(config.DefaultMaxBatchDelay)
			b.ResetTimer()
			cpu0 := cpuTime()
			runPublisher(b, cfg, testOptions(b, q))
			q.waitAcked(b, last, time.Minute)
			reportRates(b, cpu0)
		})
	}
}

// reportRates reports readings per second of wall time and, where measured,
// per second of CPU time (all threads, broker included when it runs in
// process); on a shared machine the CPU rate is the steadier figure.
func reportRates(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "readings/cpu-s")
	}
}
