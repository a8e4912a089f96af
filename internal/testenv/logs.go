package testenv

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// Logs captures what a component or a bridge logs, for assertions. It is
// safe to write to while tests read it. The one log-capture type of the
// tests: components log into it through Logger (JSON), in-process bridges
// write their text or JSON output to it.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it never fails.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Logger returns a JSON logger at debug level that writes to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Contains reports whether substr was written.
func (l *Logs) Contains(substr string) bool { return strings.Contains(l.String(), substr) }

// Count returns how often substr was written.
func (l *Logs) Count(substr string) int { return strings.Count(l.String(), substr) }

// Records returns the JSON log records whose msg is msg, decoded; lines
// that are not JSON are passed over.
func (l *Logs) Records(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// WaitFor waits until substr was written, failing the test with the logs
// after timeout.
func (l *Logs) WaitFor(t testing.TB, timeout time.Duration, substr string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !l.Contains(substr) {
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged within %s:\n%s", substr, timeout, l)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
