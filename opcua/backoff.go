package opcua

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff yields capped exponential delays with jitter: each delay is drawn
// from [d/2, d] where d doubles from min up to max, so many bridges that
// lost the same server do not all come back in the same instant.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

// next returns the delay before the next attempt.
func (b *backoff) next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.min
	case b.cur < b.max:
		b.cur = min(2*b.cur, b.max)
	}
	half := b.cur / 2
	return half + rand.N(b.cur-half+1)
}

// reset starts the next outage again at min.
func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends, reporting whether the full time passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
