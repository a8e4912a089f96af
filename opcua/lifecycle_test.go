package opcua

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// blockingSink blocks its first Append until release is closed.
type blockingSink struct {
	*recordSink
	once    sync.Once
	blocked chan struct{}
	release chan struct{}
}

func (s *blockingSink) Append(ctx context.Context, rs []fb.Reading) error {
	s.once.Do(func() {
		close(s.blocked)
		select {
		case <-s.release:
		case <-ctx.Done():
		}
	})
	return s.recordSink.Append(ctx, rs)
}

// TestBackpressureIsNotSilence blocks the sink for three watchdog limits: the
// liveness probe keeps the session, and no value is lost.
func TestBackpressureIsNotSilence(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 2, Rate: 20})
	sink := &blockingSink{recordSink: newRecordSink(), blocked: make(chan struct{}), release: make(chan struct{})}
	logs := &testenv.Logs{}
	opts := testOptions(testServer("slow", sim.Endpoint, loadIDs(2)...), sink, logs)
	opts.RequestTimeout = time.Second
	opts.KeepAlive, opts.WatchdogFloor = 200*time.Millisecond, 500*time.Millisecond // limit 600 ms
	c := newClient(t, opts)
	runClient(t, c)

	<-sink.blocked
	blockedAt := time.Now()
	testenv.Wait(t, 10*time.Second, "probes while the sink blocks", func() bool {
		return c.Stats().LastKeepAlive.After(blockedAt.Add(1200 * time.Millisecond))
	})
	close(sink.release)
	sink.waitFor(t, 10*time.Second, "values after the block", func(rs []fb.Reading) bool {
		return len(lastValues(rs)) == 2 && minOf(lastValues(rs)) > 40
	})
	if s := c.Stats(); s.Reconnects != 0 {
		t.Errorf("%d reconnects while the sink blocked, want 0:\n%s", s.Reconnects, logs)
	}
	for name, rs := range sink.byName() {
		checkConsecutive(t, name, rs)
	}
}

// failingSink fails every Append.
type failingSink struct{}

func (failingSink) Append(context.Context, []fb.Reading) error { return errors.New("disk on fire") }

// TestSinkFailureEndsRun checks that a sink error other than the end of the
// context is returned by Run instead of being retried.
func TestSinkFailureEndsRun(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 1, Rate: 10})
	opts := testServer("fail", sim.Endpoint, loadIDs(1)...)
	opts.Sink = failingSink{}
	c := newClient(t, opts)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || err.Error() != "append readings: disk on fire" {
			t.Errorf("Run: %v, want the sink's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the sink failed")
	}
}

// TestRunLeavesNoGoroutines checks that Run, through a server restart, ends
// every goroutine it (and gopcua for it) started.
func TestRunLeavesNoGoroutines(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 2, Rate: 20})
	sink := newRecordSink()
	before := runtime.NumGoroutine()
	c := newClient(t, testOptions(testServer("leak", sim.Endpoint, loadIDs(2)...), sink, &testenv.Logs{}))
	stop := runClient(t, c)
	sink.waitFor(t, 10*time.Second, "data", func(rs []fb.Reading) bool { return len(rs) > 0 })
	must(t, sim.Stop())
	testenv.Wait(t, 10*time.Second, "state down", func() bool { return c.Stats().State == StateDown })
	must(t, sim.Start())
	testenv.Wait(t, 20*time.Second, "reconnect", func() bool { return c.Stats().Reconnects == 1 })
	stop()
	// gopcua's goroutines end on their own shortly after Close returns.
	testenv.Wait(t, 5*time.Second, "goroutines back to the count before Run", func() bool {
		return runtime.NumGoroutine() <= before
	})
}

// TestRejectedLoginLoggedOnce checks that a server refusing the session is
// one "server down" error, then retries at debug level, and that the password
// never reaches the log. (The simulator accepts anonymous sessions only.)
func TestRejectedLoginLoggedOnce(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 1})
	const password = "s3cret-pw"
	logs := &testenv.Logs{}
	opts := testOptions(testServer("login", sim.Endpoint, loadIDs(1)...), newRecordSink(), logs)
	opts.Auth, opts.Username, opts.Password = "username", "operator", password
	opts.AllowPlaintextPassword = true // the server, not the client, refuses here
	c := newClient(t, opts)
	runClient(t, c)
	testenv.Wait(t, 10*time.Second, "three retries", func() bool {
		return len(logs.Records("reconnect attempt failed")) >= 3
	})
	checkLoggedOnce(t, logs, "server down", "ERROR")
	if s := c.Stats(); s.State != StateDown {
		t.Errorf("state %s, want down", s.State)
	}
	if strings.Contains(logs.String(), password) {
		t.Errorf("password in the log:\n%s", logs)
	}
}

// TestPlaintextPasswordRefused: with security mode None and no explicit
// allowance, the client never sends the password; it says why.
func TestPlaintextPasswordRefused(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 1})
	const password = "s3cret-pw"
	logs := &testenv.Logs{}
	opts := testOptions(testServer("plain", sim.Endpoint, loadIDs(1)...), newRecordSink(), logs)
	opts.Auth, opts.Username, opts.Password = "username", "operator", password
	c := newClient(t, opts)
	runClient(t, c)
	testenv.Wait(t, 10*time.Second, "the refusal", func() bool {
		return strings.Contains(logs.String(), "without encryption")
	})
	checkLoggedOnce(t, logs, "server down", "ERROR")
	if strings.Contains(logs.String(), password) {
		t.Errorf("password in the log:\n%s", logs)
	}
}
