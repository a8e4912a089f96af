package publisher

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"factorybridge"
	"factorybridge/config"
)

// testConfig returns a defaulted MQTT section for broker url with small
// messages, so tests exercise packing across many messages.
func testConfig(url string) config.MQTT {
	qos := 1
	return config.MQTT{
		Broker:          url,
		Topic:           config.DefaultTopic,
		QoS:             &qos,
		MaxMessageBytes: 4096,
		MaxBatchDelay:   config.Duration(10 * time.Millisecond),
		MaxInflight:     8,
		Encoding:        EncodingCompact,
		KeepAlive:       config.Duration(30 * time.Second),
		ConnectTimeout:  config.Duration(2 * time.Second),
	}
}

// testOptions are Options with fast retries and the test's log.
func testOptions(t testing.TB, q factorybridge.Queue) Options {
	return Options{
		BridgeID: "bridge-1", Queue: q, Logger: testLogger(t),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	}
}

// runPublisher starts Run and stops it when the test ends, checking that it
// returns nil promptly.
func runPublisher(t testing.TB, cfg config.MQTT, opts Options) *Publisher {
	t.Helper()
	p, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return 10s after its context ended")
		}
	})
	return p
}

// testLogger logs through t, and stops when the test has ended.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct {
	mu sync.Mutex
	t  testing.TB
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// captureLogger returns a logger writing into a buffer.
func captureLogger() (*slog.Logger, *syncBuffer) {
	var b syncBuffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// node is one simulated OPC UA node.
type node struct {
	name, id, server, line, station string
	value                           func(i int) factorybridge.Value
}

// testNodes returns n nodes on 3 lines × 2 stations with assorted types.
func testNodes(n int) []node {
	values := []func(int) factorybridge.Value{
		func(i int) factorybridge.Value {
			return factorybridge.FloatValue(factorybridge.TypeDouble, float64(i)/3)
		},
		func(i int) factorybridge.Value { return factorybridge.IntValue(factorybridge.TypeInt32, int64(i%7-3)) },
		func(i int) factorybridge.Value { return factorybridge.BoolValue(i%2 == 0) },
		func(i int) factorybridge.Value {
			return factorybridge.TextValue(factorybridge.TypeString, fmt.Sprintf("state \"%d\"", i%5))
		},
		func(i int) factorybridge.Value {
			return factorybridge.UintValue(factorybridge.TypeUInt64, math.MaxUint64-uint64(i))
		},
		func(i int) factorybridge.Value {
			return factorybridge.ArrayValue(factorybridge.TypeFloat, []factorybridge.Value{
				factorybridge.FloatValue(factorybridge.TypeFloat, float64(float32(i))), factorybridge.FloatValue(factorybridge.TypeFloat, 0.5)})
		},
	}
	out := make([]node, n)
	for i := range out {
		line, station := fmt.Sprintf("line%d", i%3), fmt.Sprintf("st%d", i%2)
		out[i] = node{
			name: fmt.Sprintf("munich/%s/%s/n%d", line, station, i), id: fmt.Sprintf("ns=2;s=N%d", i),
			server: "plc1", line: line, station: station, value: values[i%len(values)],
		}
	}
	return out
}

// testReadings returns count readings cycling over nodes, with millisecond
// timestamps (what the compact encoding keeps) and an occasional bad status.
func testReadings(nodes []node, count int) []factorybridge.Reading {
	base := time.Date(2024, 11, 28, 6, 0, 0, 0, time.UTC)
	out := make([]factorybridge.Reading, count)
	for i := range out {
		n := nodes[i%len(nodes)]
		src := base.Add(time.Duration(i) * time.Millisecond)
		out[i] = factorybridge.Reading{
			Name: n.name, NodeID: n.id, Server: n.server, Line: n.line, Station: n.station,
			Value: n.value(i), SourceTime: src, ServerTime: src.Add(time.Millisecond),
		}
		if i%97 == 0 {
			out[i].Status = 0x80000000 // Bad
		}
	}
	return out
}

// checkDelivery checks that every reading in want (whose Seq are 1…len)
// arrived with its content, in order per node; seqs above dupAfter may
// arrive again (they were in flight during a failure), others only once.
func checkDelivery(t testing.TB, msgs []*Message, want []factorybridge.Reading, dupAfter uint64) {
	t.Helper()
	seen := make([]bool, len(want)+1)
	lastByNode := map[string]uint64{}
	for _, m := range msgs {
		for i := range m.Readings {
			r := &m.Readings[i]
			if r.Seq == 0 || r.Seq > uint64(len(want)) {
				t.Fatalf("unexpected seq %d", r.Seq)
			}
			if seen[r.Seq] {
				if r.Seq <= dupAfter {
					t.Errorf("seq %d arrived twice; only seqs above %d may", r.Seq, dupAfter)
				}
				continue
			}
			seen[r.Seq] = true
			if last := lastByNode[r.Name]; r.Seq < last {
				t.Errorf("node %s: seq %d arrived after %d", r.Name, r.Seq, last)
			}
			lastByNode[r.Name] = r.Seq
			if got, exp := flatJSON(r), flatJSON(&want[r.Seq-1]); got != exp {
				t.Errorf("seq %d:\n got %s\nwant %s", r.Seq, got, exp)
			}
		}
	}
	for seq := 1; seq <= len(want); seq++ {
		if !seen[seq] {
			t.Fatalf("seq %d never arrived", seq)
		}
	}
}

func flatJSON(r *factorybridge.Reading) string { return string(appendFlatReading(nil, r)) }

// withSeqs returns rs with Seq set to 1…len, as memQueue assigns them.
func withSeqs(rs []factorybridge.Reading) []factorybridge.Reading {
	out := append([]factorybridge.Reading(nil), rs...)
	for i := range out {
		out[i].Seq = uint64(i + 1)
	}
	return out
}
