package opcua

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	gopcua "github.com/gopcua/opcua"

	"factorybridge"
	"factorybridge/internal/testenv"
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

// testServer returns the server settings of a client of endpoint with
// test-friendly timing, and one node per id with the defaults config would
// fill in (the server's sampling_interval unset: 0, as fast as it can).
func testServer(name, endpoint string, ids ...string) Options {
	o := Options{Name: name, Endpoint: endpoint, RequestTimeout: 2 * time.Second}
	for _, id := range ids {
		o.Nodes = append(o.Nodes, testNode(name, id))
	}
	return o
}

// testNode returns the node id of server on line/station, named for its id.
func testNode(server, id string) Node {
	return Node{
		Name: fmt.Sprintf("line/station/%s", id), Server: server, Line: "line", Station: "station",
		ID: id, Trigger: DefaultTrigger, PublishingInterval: 100 * time.Millisecond, QueueSize: 100,
	}
}

// testOptions returns o with fast back-off and the given sink and logs.
func testOptions(o Options, sink factorybridge.Sink, logs *testenv.Logs) Options {
	o.Sink, o.Logger = sink, logs.Logger()
	o.BackoffMin, o.BackoffMax = 50*time.Millisecond, 250*time.Millisecond
	return o
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
func newClient(t testing.TB, opts Options) *Client {
	t.Helper()
	c, err := New(opts)
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
