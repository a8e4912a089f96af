package testenv

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// LogEntry is one JSON log line of the bridge (slog's JSON handler): "time",
// "level", "msg" and the line's attributes.
type LogEntry map[string]any

// Msg returns the entry's message.
func (e LogEntry) Msg() string { return e.Str("msg") }

// Level returns the entry's level: DEBUG, INFO, WARN or ERROR.
func (e LogEntry) Level() string { return e.Str("level") }

// Time returns the entry's timestamp; zero when missing.
func (e LogEntry) Time() time.Time { return e.TimeAttr("time") }

// Str returns a string attribute; "" when missing or not a string.
func (e LogEntry) Str(key string) string {
	s, _ := e[key].(string)
	return s
}

// Num returns a number attribute; 0 when missing or not a number.
func (e LogEntry) Num(key string) float64 {
	f, _ := e[key].(float64)
	return f
}

// TimeAttr returns an RFC 3339 time attribute; zero when missing.
func (e LogEntry) TimeAttr(key string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.Str(key))
	return t
}

// String returns the entry as one line of JSON.
func (e LogEntry) String() string {
	b, err := json.Marshal(map[string]any(e))
	if err != nil {
		return fmt.Sprint(map[string]any(e))
	}
	return string(b)
}

// Entries returns the JSON log lines of every run whose message is msg, in
// order; msg "" returns them all. Lines that are not JSON (such as a race
// report) are skipped.
func (b *Bridge) Entries(msg string) []LogEntry {
	var out []LogEntry
	for line := range strings.Lines(b.Logs()) {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var e LogEntry
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		if msg == "" || e.Msg() == msg {
			out = append(out, e)
		}
	}
	return out
}

// StopDrained stops the bridge (SIGTERM) and returns the last_seq of its
// final "stopped" line: the highest seq it ever committed on this buffer
// file. It fails the test unless the bridge exited 0 with its buffer empty,
// so that everything up to that seq was acknowledged by the broker.
func (b *Bridge) StopDrained(t testing.TB) uint64 {
	t.Helper()
	if code := b.Stop(); code != 0 {
		t.Fatalf("bridge exited with code %d\n%s", code, b.LogTail())
	}
	stopped := b.Entries("stopped")
	if len(stopped) == 0 {
		t.Fatalf("no \"stopped\" log line\n%s", b.LogTail())
	}
	last := stopped[len(stopped)-1]
	if d := last.Num("buffer_depth"); d != 0 {
		t.Fatalf("bridge stopped with %v readings still buffered", d)
	}
	return uint64(last.Num("last_seq"))
}
