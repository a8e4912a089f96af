package iothub

import (
	"errors"
	"log/slog"
	"sync"

	"factorybridge/publisher/mqtt"
)

// basicTierAfter is how many connections in a row must end while their
// methods and twin were being set up (the SUBSCRIBE or the twin GET
// unanswered) before the hub is taken for a Basic-tier one, which has
// neither and closes the connection instead of answering. One such loss
// can be an ordinary outage; three in a row at that very moment are not.
const basicTierAfter = 3

// tier follows whether the hub offers direct methods and the twin. It
// outlives connections; sessions, one at a time, update it.
type tier struct {
	mu       sync.Mutex
	off      bool // telemetry only, for the process's lifetime
	optedOut bool // Options.NoTwin: announced once
	lost     int  // connections in a row lost while setting up
}

// withTwin reports whether this connection sets up methods and the twin,
// and says once that they are off by configuration.
func (t *tier) withTwin(log *slog.Logger) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.optedOut {
		t.optedOut = false
		log.Info("iothub: twin = false: no direct methods and no device twin; publishing telemetry only")
	}
	return !t.off
}

// subscribeFailed handles a failed SUBSCRIBE to methods and the twin. A
// SUBACK refusing them means they are not offered; a SUBSCRIBE the
// connection did not survive counts towards a Basic-tier hub; a SUBACK
// that is only late does neither (the next connection tries again).
func (t *tier) subscribeFailed(log *slog.Logger, err error, ended bool) {
	switch {
	case errors.Is(err, mqtt.ErrSubscriptionRefused):
		t.telemetryOnly(log, "the hub refused the subscriptions to direct methods and the twin")
	case ended:
		t.controlLost(log)
	default:
		log.Warn("iothub: no direct methods or twin on this connection", "error", err)
	}
}

// controlLost counts a connection lost while methods and the twin were
// being set up; basicTierAfter of them in a row turn them off.
func (t *tier) controlLost(log *slog.Logger) {
	t.mu.Lock()
	t.lost++
	n := t.lost
	t.mu.Unlock()
	if n >= basicTierAfter {
		t.telemetryOnly(log, "the hub closed the connection each time the bridge subscribed to direct methods and the twin")
	}
}

// controlWorks notes that the hub answered a twin request.
func (t *tier) controlWorks() {
	t.mu.Lock()
	t.lost = 0
	t.mu.Unlock()
}

// telemetryOnly turns methods and the twin off for good, in one log line.
func (t *tier) telemetryOnly(log *slog.Logger, why string) {
	t.mu.Lock()
	already := t.off
	t.off = true
	t.mu.Unlock()
	if already {
		return
	}
	log.Warn("iothub: "+why+": a Basic-tier hub has no direct methods and no device twin; "+
		"publishing telemetry only until restart (a Standard tier hub is needed for GetStatus, GetOEE "+
		"and the twin; set iothub.twin = false to skip the attempt)", "attempts", basicTierAfter)
}
