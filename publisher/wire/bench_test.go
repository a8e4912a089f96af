package wire_test

import (
	"testing"
	"time"

	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// benchMaxBytes is the MQTT transport's default message size.
const benchMaxBytes = 256 << 10

// BenchmarkEncode measures packing readings into messages of the default
// size, the publisher's hot path without the network: readings/s and
// bytes/reading of the messages produced.
func BenchmarkEncode(b *testing.B) {
	for _, enc := range []string{wire.EncodingCompact, wire.EncodingFlat} {
		b.Run(enc, func(b *testing.B) {
			rs := pubtest.Readings(pubtest.Nodes(200), 10_000)
			pk := wire.NewPacker("bridge-1", enc, benchMaxBytes)
			buf := make([]byte, 0, benchMaxBytes)
			slot := pk.SlotOf("t", &rs[0]) // readings of one topic, never split
			now := time.Now()
			var bytes, seq int
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := pubtest.CPUTime()
			for i := range b.N {
				r := &rs[i%len(rs)]
				seq++
				r.Seq = uint64(seq)
				bld := pk.Builder(slot)
				if bld == nil {
					bld = pk.Start(slot, now)
				}
				if !pk.Add(bld, r) {
					buf = pk.Finish(bld, buf[:0])
					bytes += len(buf)
					bld = pk.Start(slot, now)
					pk.Add(bld, r)
				}
			}
			if bld := pk.Builder(slot); bld != nil {
				bytes += len(pk.Finish(bld, buf[:0]))
			}
			pubtest.ReportRates(b, cpu0)
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/reading")
		})
	}
}
