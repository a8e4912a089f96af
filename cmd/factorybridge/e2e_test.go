package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
)

// startBridge runs "factorybridge run" in-process, with extra flags, until
// the test stops it.
func startBridge(t *testing.T, cfgPath string, extra ...string) (stop func() error, logs *lockedWriter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lw := &lockedWriter{w: &bytes.Buffer{}}
	done := make(chan error, 1)
	args := append([]string{"run", "-config", cfgPath, "-status-interval", "1s"}, extra...)
	go func() { done <- run(ctx, args, lw, lw) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop, lw
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// String returns what was written so far; safe while writes go on.
func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// TestEveryReadingReachesTheBroker runs the whole path against the open62541
// simulator and mosquitto: every counter value of every load node arrives,
// per node in order, with no gap and no duplicate.
func TestEveryReadingReachesTheBroker(t *testing.T) {
	const nodes, rate, want = 20, 200, 600
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: rate})
	broker := testenv.StartMosquitto(t)
	cons := consumer.Start(t, broker.URL, consumer.Options{Topic: "fb/e2e/#"})
	cfg := testenv.WriteLoadConfig(t, testenv.LoadConfig{Endpoint: sim.Endpoint, Broker: broker.URL, Nodes: nodes})
	stop, logs := startBridge(t, cfg)
	names := make([]string, nodes)
	for i := range names {
		names[i] = testenv.LoadNodeName(i)
	}
	testenv.Wait(t, 60*time.Second, fmt.Sprintf("%d values of each of %d nodes", want, nodes), func() bool {
		return cons.MinCount(names) >= want
	})
	if err := stop(); err != nil {
		t.Fatalf("bridge exited with %v\n%s", err, logs)
	}
	if n, errs := cons.Errors(); n > 0 {
		t.Fatalf("%d bad messages or readings: %v", n, errs)
	}
	a := cons.Analyze(names, nil)
	if a.Lost > 0 || a.Dups > 0 || a.Reorders > 0 || len(a.Missing) > 0 || a.Err != nil {
		t.Fatalf("want every value once and in order: %v", a)
	}
	t.Log(a)
}
