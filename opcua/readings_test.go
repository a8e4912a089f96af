package opcua

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// chunkSink records what it is given, copied as the Sink contract says,
// and the size of each Append; it overwrites the caller's slice after
// copying it, as a caller reusing it would, to prove nothing reads it
// afterwards.
type chunkSink struct {
	readings []fb.Reading
	sizes    []int
}

func (s *chunkSink) Append(ctx context.Context, rs []fb.Reading) error {
	s.readings = append(s.readings, rs...)
	s.sizes = append(s.sizes, len(rs))
	clear(rs)
	return ctx.Err()
}

// dataChange returns a notification of n UInt64 values: item k is of node
// k % nodes and has the value k.
func dataChange(n, nodes int) *ua.DataChangeNotification {
	now := time.Now()
	dcn := &ua.DataChangeNotification{MonitoredItems: make([]*ua.MonitoredItemNotification, n)}
	for k := range dcn.MonitoredItems {
		dcn.MonitoredItems[k] = &ua.MonitoredItemNotification{ClientHandle: uint32(k % nodes), Value: &ua.DataValue{
			EncodingMask: ua.DataValueValue | ua.DataValueSourceTimestamp | ua.DataValueServerTimestamp,
			Value:        ua.MustVariant(uint64(k)), SourceTimestamp: now, ServerTimestamp: now,
		}}
	}
	return dcn
}

// TestDeliverInChunks: a notification larger than a chunk reaches the sink
// whole, in order, in appends of at most deliverChunk readings, whether
// its values pass untouched or through the per-node rules (a heartbeat
// node remembers its last value).
func TestDeliverInChunks(t *testing.T) {
	const nodes, n = 1000, 2*deliverChunk + 123
	for _, heartbeat := range []time.Duration{0, time.Hour} {
		sink := &chunkSink{}
		opts := testOptions(testServer("chunks", "opc.tcp://127.0.0.1:4840", loadIDs(nodes)...), sink, &testenv.Logs{})
		opts.Clock.SkewThreshold = 24 * time.Hour
		for i := range opts.Nodes {
			opts.Nodes[i].Heartbeat = heartbeat
		}
		s := newSession(newClient(t, opts))
		s.deliver(context.Background(), dataChange(n, nodes))
		if got, want := sink.sizes, []int{deliverChunk, deliverChunk, 123}; !equalInts(got, want) {
			t.Errorf("heartbeat %v: appends of %v readings, want %v", heartbeat, got, want)
		}
		if len(sink.readings) != n {
			t.Fatalf("heartbeat %v: %d readings, want %d", heartbeat, len(sink.readings), n)
		}
		for k, r := range sink.readings {
			if r.Value.Uint() != uint64(k) || r.Name != opts.Nodes[k%nodes].Name {
				t.Fatalf("heartbeat %v: reading %d is %s = %d, want %s = %d", heartbeat, k, r.Name, r.Value.Uint(), opts.Nodes[k%nodes].Name, k)
			}
		}
		if heartbeat > 0 && s.c.state[0].last.Value.Uint() != uint64(n-n%nodes) {
			t.Errorf("node 0's last value %d, want %d", s.c.state[0].last.Value.Uint(), n-n%nodes)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

// TestDeliverReusesItsMemory: once warm, delivering a notification of
// 10,000 values allocates no readings (the old batch was 2 MB a time) and
// keeps no reference to the notification's items.
func TestDeliverReusesItsMemory(t *testing.T) {
	const nodes, n = 1000, 10000
	opts := testOptions(testServer("alloc", "opc.tcp://127.0.0.1:4840", loadIDs(nodes)...), &countSink{changed: make(chan struct{}, 1)}, &testenv.Logs{})
	opts.Clock.SkewThreshold = 24 * time.Hour
	s := newSession(newClient(t, opts))
	dcn := dataChange(n, nodes)
	s.deliver(context.Background(), dcn) // warm: the scratch grows
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 10
	for range runs {
		s.deliver(context.Background(), dcn)
	}
	runtime.ReadMemStats(&after)
	if got, limit := (after.TotalAlloc-before.TotalAlloc)/runs, uint64(4<<10); got > limit {
		t.Errorf("deliver allocated %d B for %d readings, want at most %d", got, n, limit)
	}
	for k, it := range s.scratch.items[:cap(s.scratch.items)] {
		if it != nil {
			t.Fatalf("the scratch keeps item %d of the last notification", k)
		}
	}
}
