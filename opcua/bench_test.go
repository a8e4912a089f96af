package opcua

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// countSink counts readings and keeps none: the cost of the OPC UA side
// alone.
type countSink struct {
	n       atomic.Int64
	changed chan struct{} // cap 1
}

func (s *countSink) Append(ctx context.Context, rs []fb.Reading) error {
	s.n.Add(int64(len(rs)))
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return ctx.Err()
}

// waitCount waits until the sink has counted n readings.
func (s *countSink) waitCount(b *testing.B, n int64, timeout time.Duration) {
	b.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for s.n.Load() < n {
		select {
		case <-s.changed:
		case <-deadline.C:
			b.Fatalf("%d of %d readings after %s", s.n.Load(), n, timeout)
		}
	}
}

// BenchmarkSubscribeLoad measures the client's path from a publish
// response to readings handed to the sink: the simulator with
// FB_BENCH_NODES (10,000) load nodes changing 10 times a second, sampling
// interval 0, queue 20, publishing interval 1 s, a sink that only counts.
// One op is one reading; cpu-µs/reading is this process's user + system
// time (the simulator is another process). Run it with a fixed count, e.g.
// -benchtime 1000000x, and -cpuprofile/-memprofile to see where it goes.
func BenchmarkSubscribeLoad(b *testing.B) {
	nodes := 10000
	if v, err := strconv.Atoi(os.Getenv("FB_BENCH_NODES")); err == nil && v > 0 {
		nodes = v
	}
	sim := testenv.StartSimulator(b, testenv.SimOptions{LoadNodes: nodes, Rate: 10})
	sink := &countSink{changed: make(chan struct{}, 1)}
	opts := testOptions(testServer("load", sim.Endpoint, loadIDs(nodes)...), sink, &testenv.Logs{})
	for i := range opts.Nodes {
		opts.Nodes[i].QueueSize, opts.Nodes[i].SamplingInterval = 20, 0
		opts.Nodes[i].PublishingInterval = time.Second
	}
	opts.RequestTimeout = 30 * time.Second
	runClient(b, newClient(b, opts))
	sink.waitCount(b, int64(5*nodes), 2*time.Minute) // subscribed, heap settled

	start, cpu0 := sink.n.Load(), processCPU(b)
	b.ResetTimer()
	sink.waitCount(b, start+int64(b.N), time.Duration(b.N/nodes+60)*time.Second)
	b.StopTimer()
	got := sink.n.Load() - start
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(got), "cpu-µs/reading")
}

// processCPU returns the user + system time of this process.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDeliver measures the drain's work for the readings of one
// DataChangeNotification of 1,000 UInt64 values with both timestamps, of
// a client of 10,000 nodes: decoding the notification's body as gopcua's
// receive path does, turning the values into readings and appending them
// to a sink that counts. One op is one reading.
func BenchmarkDeliver(b *testing.B) {
	const nodes, perNotification = 10000, 1000
	sink := &countSink{changed: make(chan struct{}, 1)}
	opts := testOptions(testServer("bench", "opc.tcp://127.0.0.1:4840", loadIDs(nodes)...), sink, &testenv.Logs{})
	opts.Clock.SkewThreshold = 24 * time.Hour // the encoded timestamps age while it runs
	s := newSession(newClient(b, opts))
	s.flushCtx = context.Background()
	body := encodeDataChange(b, perNotification)
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	for n := 0; n < b.N; n += perNotification {
		var eo ua.ExtensionObject
		if _, err := eo.Decode(body); err != nil {
			b.Fatal(err)
		}
		s.deliver(s.flushCtx, eo.Value.(*ua.DataChangeNotification))
	}
	b.StopTimer()
	// CPU time, the garbage collector's included, is steadier than wall
	// time on a shared machine.
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/reading")
}

// encodeDataChange returns the encoded ExtensionObject of a
// DataChangeNotification with n items, as a publish response carries it.
func encodeDataChange(b *testing.B, n int) []byte {
	now := time.Now()
	dcn := &ua.DataChangeNotification{MonitoredItems: make([]*ua.MonitoredItemNotification, n)}
	for i := range dcn.MonitoredItems {
		dcn.MonitoredItems[i] = &ua.MonitoredItemNotification{ClientHandle: uint32(i), Value: &ua.DataValue{
			EncodingMask: ua.DataValueValue | ua.DataValueSourceTimestamp | ua.DataValueServerTimestamp,
			Value:        ua.MustVariant(uint64(100000 + i)), SourceTimestamp: now, ServerTimestamp: now,
		}}
	}
	body, err := ua.NewExtensionObject(dcn).Encode()
	if err != nil {
		b.Fatal(err)
	}
	return body
}
