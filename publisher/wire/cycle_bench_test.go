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

// BenchmarkPackCycle packs publishing cycles of a load test's nodes (10 Hz
// samples, a 1 s interval: 10 samples per node and cycle, listed as a
// publish response lists them, every node's first sample, then every
// node's second, …) into messages of the default size, as the MQTT
// session does: one topic, split into shards when its messages hold too
// few samples per node, every builder sent at the cycle's end. It reports
// the time and the bytes allocated per reading, and what the packer holds
// at the end of a cycle, before its messages go out (heap in use after a
// GC, the payload buffer included): held-B/reading and held-MB. CPU time
// (cpu-ns/reading, the GC's included) is what a busy machine skews least.
func BenchmarkPackCycle(b *testing.B) {
	for _, nodes := range []int{10_000, 30_000} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) { benchPackCycle(b, nodes) })
	}
}

func benchPackCycle(b *testing.B, nodes int) {
	const samples = 10
	cycles := make([][]fb.Reading, 2) // two cycles, so a builder never sees a cycle twice in a row
	for c := range cycles {
		cycles[c] = cycleReadings(nodes, samples, c)
	}
	var m0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	cp := newCyclePacker()
	for c := range 3 { // settle the shards, as a running bridge has
		cp.pack(cycles[c%2], uint64(c*nodes*samples))
		cp.flush()
	}
	var held uint64
	var builders, msgs int
	var m1, m2 runtime.MemStats
	runtime.ReadMemStats(&m1)
	b.ResetTimer()
	cpu0 := pubtest.CPUTime()
	for n := range b.N {
		msgs0 := cp.msgs
		cp.pack(cycles[n%2], uint64((n+3)*nodes*samples))
		if n == 0 { // what the packer holds at its fullest, outside the timing
			b.StopTimer()
			cpu1 := pubtest.CPUTime()
			var m runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m)
			held, builders = m.HeapAlloc-m0.HeapAlloc, len(cp.pk.TopicBuilders(cyclePackTopic))
			cpu0 += pubtest.CPUTime() - cpu1
			b.StartTimer()
		}
		cp.flush()
		msgs = cp.msgs - msgs0
	}
	b.StopTimer()
	cpu := pubtest.CPUTime() - cpu0
	runtime.ReadMemStats(&m2)
	readings := float64(b.N * nodes * samples)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/readings, "ns/reading")
	b.ReportMetric(float64(cpu.Nanoseconds())/readings, "cpu-ns/reading")
	b.ReportMetric(float64(m2.TotalAlloc-m1.TotalAlloc)/readings, "alloc-B/reading")
	b.ReportMetric(float64(held)/float64(nodes*samples), "held-B/reading")
	b.ReportMetric(float64(held)/(1<<20), "held-MB")
	b.ReportMetric(float64(builders), "builders")
	b.ReportMetric(float64(msgs), "msgs/cycle")
}

// cyclePackTopic is the one topic of the load test's nodes (one line).
const cyclePackTopic = "factorybridge/bench/load/readings"

// cycleReadings returns one cycle of nodes × samples counter readings in
// publish-response order. Each node's strings are shared by its readings,
// as the buffer's dictionary shares them.
func cycleReadings(nodes, samples, cycle int) []fb.Reading {
	base := time.Date(2026, 12, 6, 6, 0, cycle, 0, time.UTC)
	heads := make([]fb.Reading, nodes)
	for i := range heads {
		heads[i] = fb.Reading{Name: fmt.Sprintf("site/load/counters/n%d", i),
			NodeID: fmt.Sprintf("nsu=urn:factorybridge:load;s=load.%d", i), Server: "load", Line: "load", Station: "counters"}
	}
	rs := make([]fb.Reading, 0, nodes*samples)
	for j := range samples {
		src := base.Add(time.Duration(j) * 100 * time.Millisecond)
		for i := range heads {
			r := heads[i]
			r.SourceTime, r.ServerTime = src, src.Add(3*time.Millisecond)
			r.Value = fb.IntValue(fb.TypeInt32, int64(cycle*samples+j+i))
			rs = append(rs, r)
		}
	}
	return rs
}

// cyclePacker places readings as the MQTT session does (publisher/mqtt
// send.go place), with a window that never shuts: a message's payload
// buffer is reused at once, as after a quick acknowledgement.
type cyclePacker struct {
	pk   *wire.Packer
	buf  []byte
	msgs int
}

func newCyclePacker() *cyclePacker {
	return &cyclePacker{pk: wire.NewPacker("bench", wire.EncodingCompact, benchMaxBytes)}
}

func (cp *cyclePacker) pack(rs []fb.Reading, seq0 uint64) {
	for i := range rs {
		r := &rs[i]
		r.Seq = seq0 + uint64(i) + 1
		cp.place(r)
	}
}

func (cp *cyclePacker) place(r *fb.Reading) {
	pk := cp.pk
	slot := pk.SlotOf(cyclePackTopic, r)
	bld := pk.Builder(slot)
	if bld == nil {
		bld = pk.Start(slot, time.Time{})
	}
	if pk.Add(bld, r) {
		return
	}
	if pk.Sparse(bld) {
		for _, tb := range pk.TopicBuilders(cyclePackTopic) {
			cp.send(tb)
		}
		pk.Split(cyclePackTopic)
		slot = pk.SlotOf(cyclePackTopic, r)
	} else {
		cp.send(bld)
	}
	if !pk.Add(pk.Start(slot, time.Time{}), r) {
		panic("a reading does not fit an empty message")
	}
}

func (cp *cyclePacker) send(bld *wire.Builder) {
	cp.buf = cp.pk.Finish(bld, cp.buf[:0])
	cp.msgs++
}

// flush sends every builder: the cycle's grace has ended.
func (cp *cyclePacker) flush() {
	for bld := cp.pk.Oldest(); bld != nil; bld = cp.pk.Oldest() {
		cp.send(bld)
	}
}
