package pubtest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

// Runner is a publisher under test.
type Runner interface {
	Run(ctx context.Context) error
}

// Run starts p.Run and stops it when the test ends, checking that it
// returns nil promptly.
func Run(t testing.TB, p Runner) {
	t.Helper()
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
}

// Logger logs through t at INFO, and stops when the test has ended.
func Logger(t testing.TB) *slog.Logger {
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

// CaptureLogger returns a logger at INFO writing text (key=value, which is
// what the assertions look for) into the returned Logs.
func CaptureLogger() (*slog.Logger, *testenv.Logs) {
	logs := &testenv.Logs{}
	return slog.New(slog.NewTextHandler(logs, nil)), logs
}

// ReportRates reports readings per second of wall time and, where measured,
// per second of CPU time (all threads, broker included when it runs in
// process); on a shared machine the CPU rate is the steadier figure. cpu0
// is CPUTime when the timed part started.
func ReportRates(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
	if cpu := CPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "readings/cpu-s")
	}
}
