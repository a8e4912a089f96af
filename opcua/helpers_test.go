package opcua

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	gopcua "github.com/gopcua/opcua"

	"factorybridge"
	"factorybridge/config"
)

// recordSink is an in-test Sink that keeps every reading and wakes waiters.
type recordSink struct {
	mu       sync.Mutex
	readings []factorybridge.Reading
	changed  chan struct{} // cap 1: something was appended
}

func newRecordSink() *recordSink { return &recordSink{changed: make(chan struct{}, 1)} }

func (s *recordSink) Append(ctx context.Context, rs []factorybridge.Reading) error {
	s.mu.Lock()
	s.readings = append(s.readings, rs...)
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return ctx.Err()
}

// snapshot returns a copy of the readings so far.
func (s *recordSink) snapshot() []factorybridge.Reading {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]factorybridge.Reading(nil), s.readings...)
}

// byName groups the readings by reading name, in arrival order.
func (s *recordSink) byName() map[string][]factorybridge.Reading {
	m := map[string][]factorybridge.Reading{}
	for _, r := range s.snapshot() {
		m[r.Name] = append(m[r.Name], r)
	}
	return m
}

// waitFor waits until cond holds over the readings, failing after timeout.
func (s *recordSink) waitFor(t testing.TB, timeout time.Duration, what string, cond func([]factorybridge.Reading) bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond(s.snapshot()) {
		select {
		case <-s.changed:
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

// waitUntil polls cond (cheap: Stats, logs) every 10 ms until it holds,
// failing after timeout.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

// logBuffer captures JSON logs for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the decoded log records with the given message.
func (b *logBuffer) records(msg string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer returns a server config for endpoint with test-friendly timing.
func testServer(name, endpoint string) config.Server {
	return config.Server{
		Name: name, Endpoint: endpoint,
		PublishingInterval: config.Duration(100 * time.Millisecond),
		QueueSize:          100,
		RequestTimeout:     config.Duration(2 * time.Second),
	}
}

// nodeRefs returns one NodeRef per id with the defaults config would apply.
func nodeRefs(srv config.Server, ids ...string) []config.NodeRef {
	refs := make([]config.NodeRef, len(ids))
	for i, id := range ids {
		refs[i] = config.NodeRef{
			Name: fmt.Sprintf("line/station/%s", id), Server: srv.Name, Line: "line", Station: "station",
			Node: config.Node{
				Name: id, ID: id, Trigger: config.DefaultTrigger,
				PublishingInterval: srv.PublishingInterval,
				SamplingInterval:   srv.SamplingInterval,
				QueueSize:          srv.QueueSize,
			},
		}
	}
	return refs
}

// testOptions are Options with fast back-off and the given sink and logs.
func testOptions(sink factorybridge.Sink, logs *logBuffer) Options {
	return Options{
		Sink: sink, Logger: logs.logger(),
		BackoffMin: 50 * time.Millisecond, BackoffMax: 250 * time.Millisecond,
	}
}

// runClient starts c.Run and stops it (and checks that Run returns) when the
// test ends. It returns a function that stops it earlier.
func runClient(t testing.TB, c *Client) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return within 10 s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// newClient builds a client or fails the test.
func newClient(t testing.TB, srv config.Server, nodes []config.NodeRef, opts Options) *Client {
	t.Helper()
	c, err := New(srv, nodes, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// namespaceIndex asks the server at endpoint for the index of uri, with a
// plain gopcua client.
func namespaceIndex(t testing.TB, endpoint, uri string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := gopcua.NewClient(endpoint, gopcua.AutoReconnect(false))
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	idx, err := c.FindNamespace(ctx, uri)
	if err != nil {
		t.Fatalf("find namespace %s: %v", uri, err)
	}
	return fmt.Sprint(idx)
}

// must fails the test on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
