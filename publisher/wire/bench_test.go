package wire_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	fb "factorybridge"
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

// BenchmarkHeldCycle measures the memory a packer holds while it packs a
// publishing cycle (30,000 nodes × 10 samples, time-major as a publish
// response lists them) into 64 messages: heap bytes per held reading.
func BenchmarkHeldCycle(b *testing.B) {
	const nodes, samples, builders = 30_000, 10, 64
	base := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	ns := make([]fb.Reading, nodes)
	for i := range ns {
		ns[i] = fb.Reading{Name: fmt.Sprintf("load/counters/n%d", i), NodeID: fmt.Sprintf("nsu=urn:factorybridge:load;s=load.%d", i),
			Server: "sim", Line: "load", Station: "counters"}
	}
	topics := make([]string, builders)
	for i := range topics {
		topics[i] = fmt.Sprintf("t%d", i)
	}
	var held float64
	for n := range b.N {
		pk := wire.NewPacker("bench", wire.EncodingCompact, benchMaxBytes)
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		for j := range samples {
			for i := range ns {
				r := ns[i]
				r.Seq = uint64(j*nodes + i + 1)
				r.SourceTime = base.Add(time.Duration(j) * 100 * time.Millisecond)
				r.ServerTime, r.Value = r.SourceTime, fb.IntValue(fb.TypeInt32, int64(r.Seq))
				slot := pk.SlotOf(topics[i%builders], &r)
				bld := pk.Builder(slot)
				if bld == nil {
					bld = pk.Start(slot, base)
				}
				if !pk.Add(bld, &r) {
					b.Fatalf("seq %d does not fit", r.Seq)
				}
			}
		}
		if n == 0 {
			runtime.GC()
			runtime.ReadMemStats(&m1)
			held = float64(m1.HeapAlloc-m0.HeapAlloc) / float64(pk.Held())
		}
		pk.Reset()
	}
	b.ReportMetric(held, "heap-bytes/held-reading")
}
