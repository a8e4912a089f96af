package bridge

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

// TestRunOwnsItsWatchers: the status reporter, the profiler and the HTTP
// endpoint run while the bridge runs and have ended when Run returns (they
// used to be started with go by main and outlive a failed bridge).
func TestRunOwnsItsWatchers(t *testing.T) {
	cfg := parse(t, strings.NewReplacer(
		`bridge.data_dir = "/tmp/fb"`, `bridge.data_dir = "`+t.TempDir()+`"`,
		"127.0.0.1:1883", "127.0.0.1:1", // nothing listens: the publisher retries
		"127.0.0.1:4840", "127.0.0.1:1",
	).Replace(baseConfig))
	var logs testenv.Logs
	var reports atomic.Int64
	b, err := New(cfg, Options{Logger: logs.Logger(), StatusInterval: 10 * time.Millisecond,
		OnStatus: func(Status) { reports.Add(1) }, DebugAddr: "127.0.0.1:0", DrainTimeout: 100 * time.Millisecond,
		HTTPListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	const httpUp = "status page, metrics and health listening"
	testenv.Wait(t, 10*time.Second, "status reports, the profiler and the HTTP endpoint", func() bool {
		return reports.Load() >= 3 && len(logs.Records("profiler listening")) == 1 && len(logs.Records(httpUp)) == 1
	})
	addr := strings.TrimPrefix(logs.Records("profiler listening")[0]["addr"].(string), "http://")
	addr = strings.TrimSuffix(addr, "/debug/pprof/")
	httpAddr := strings.TrimSuffix(strings.TrimPrefix(logs.Records(httpUp)[0]["addr"].(string), "http://"), "/")
	for _, a := range []string{addr, httpAddr} {
		if c, err := net.Dial("tcp", a); err != nil {
			t.Fatalf("%s not reachable while running: %v", a, err)
		} else {
			c.Close()
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	after := reports.Load()
	for _, a := range []string{addr, httpAddr} {
		if c, err := net.Dial("tcp", a); err == nil {
			c.Close()
			t.Errorf("%s still listens after Run returned", a)
		}
	}
	time.Sleep(50 * time.Millisecond) // five status intervals: none may come now
	if n := reports.Load(); n != after {
		t.Errorf("%d status reports after Run returned", n-after)
	}
}
