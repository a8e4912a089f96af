package mqtt

import (
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRateLimiter(10)
	sent := 0
	// Send as fast as allowed for 10 simulated seconds in 1 ms steps.
	for i := 0; i < 10000; i++ {
		now = now.Add(time.Millisecond)
		if l.ready(now) {
			l.take(now)
			sent++
		}
	}
	if sent < 99 || sent > 101 {
		t.Errorf("sent %d messages in 10 s at a cap of 10/s, want 100 (±1)", sent)
	}
	l.take(now) // a split may go below zero
	l.take(now)
	if w := l.wait(now); w < 100*time.Millisecond {
		t.Errorf("wait after overdrawing = %v, want at least 100ms", w)
	}
}
