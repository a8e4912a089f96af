package mqtt

import "time"

// rateLimiter paces sends: a token bucket that holds one message, so that
// no window of a second sees more than the rate plus one (a fuller bucket
// would allow bursts that a per-second throttle (IoT Hub's) counts). A send may
// take the bucket below zero (a split sends several builders at once); the
// sends after it then wait longer, so the average holds.
type rateLimiter struct {
	rate   float64 // messages per second
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func newRateLimiter(perSecond float64) *rateLimiter {
	return &rateLimiter{rate: perSecond, tokens: 1}
}

func (l *rateLimiter) refill(now time.Time) {
	if !l.at.IsZero() {
		l.tokens = min(l.tokens+now.Sub(l.at).Seconds()*l.rate, 1)
	}
	l.at = now
}

// ready reports whether a message may be sent now.
func (l *rateLimiter) ready(now time.Time) bool {
	l.refill(now)
	return l.tokens >= 1
}

// take counts a sent message.
func (l *rateLimiter) take(now time.Time) {
	l.refill(now)
	l.tokens--
}

// wait is how long until the next message may be sent.
func (l *rateLimiter) wait(now time.Time) time.Duration {
	l.refill(now)
	if l.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}
