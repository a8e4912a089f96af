package mqtt

import (
	"errors"
	"fmt"
	"time"
)

// errReconfigure ends a connection for an update that changes the broker
// or the identity; the next one is made at once with the new settings.
var errReconfigure = errors.New("the broker or the identity changed")

// reconfig is the session's view of the pending update: while u is set,
// no reading is packed, and the builders go out as the window allows.
type reconfig struct {
	u     *update
	c     changeList // what u changes, computed once per update
	by    time.Time  // a reconnecting update reconnects then, acknowledged or not
	timer *time.Timer
}

// reconfigure applies a pending update at the session's next quiet
// moment: no builder and nothing in flight, so every message sent so far
// was made with the old settings and acknowledged (or refused) under
// them. One that needs a new connection ends the session instead
// (errReconfigure), waiting for the acknowledgements at most the connect
// timeout, and leaves the update to the connect loop.
func (s *session) reconfigure(now time.Time) error {
	p, r := s.p, &s.reconf
	u := p.pending.Load()
	if u == nil {
		r.u = nil
		return nil
	}
	if u != r.u {
		r.u, r.c, r.by = u, p.changes(u), now.Add(p.opts.ConnectTimeout)
	}
	s.flushAll()
	quiet := p.packer.Oldest() == nil && len(s.inflight) == 0
	switch {
	case r.c.reconnect && (quiet || !now.Before(r.by)):
		if err := s.ackFront(); err != nil { // what was acknowledged is not read again
			return err
		}
		return errReconfigure
	case !quiet:
		return nil
	case !p.pending.CompareAndSwap(u, nil):
		return nil // a newer update came: the next round takes it
	}
	r.u = nil
	p.logUpdate(r.c, u)
	return s.apply(u, now)
}

// apply applies an update that keeps the connection; the session is quiet.
func (s *session) apply(u *update, now time.Time) error {
	p := s.p
	oldPresence, oldMax := p.opts.Presence, p.opts.MaxMessageBytes
	p.applySettings(u)
	if s.l.caps.maxQoS < p.qos {
		return fmt.Errorf("the broker takes QoS %d at most (CONNACK Maximum QoS) but mqtt.qos is now %d", s.l.caps.maxQoS, p.qos)
	}
	s.resizeWindow()
	s.resizeLimit(oldMax)
	if p.limiter != nil && s.rate == nil {
		s.rate = time.NewTimer(time.Hour)
	}
	if len(p.holds.held) > 0 && s.rw == nil {
		s.rw = &rewindPlan{at: now, release: true} // an update is a moment to try held topics again
	}
	p.reborn(s.l, oldPresence)
	return nil
}

// resizeWindow applies MaxInflight. The channels to and from the waiter
// hold the window, so a larger one gets larger channels and a new waiter;
// nothing is in flight.
func (s *session) resizeWindow() {
	s.window = s.p.windowOf(s.l)
	if s.window <= cap(s.sent) {
		return
	}
	s.stopWaiter()
	s.sent, s.acks = make(chan *message, s.window), make(chan ackResult, s.window)
	s.startWaiter()
}

// resizeLimit applies MaxMessageBytes; the packer holds no builder. A
// smaller size applies at once; a larger one too unless the delivery check
// verified this connection's size, which only the next connection's check
// can raise.
func (s *session) resizeLimit(oldMax int) {
	p := s.p
	switch n := p.opts.MaxMessageBytes; {
	case n < oldMax:
		s.limit = min(s.limit, n)
	case n > oldMax && !s.checked:
		s.limit = p.ceiling(s.l)
	}
	p.setLimit(s.limit)
}

// quietC fires when a reconnecting update stops waiting for the
// acknowledgements of the messages in flight.
func (s *session) quietC() <-chan time.Time {
	r := &s.reconf
	if r.u == nil || !r.c.reconnect {
		return nil
	}
	if r.timer == nil {
		r.timer = time.NewTimer(time.Until(r.by))
	} else {
		r.timer.Reset(time.Until(r.by))
	}
	return r.timer.C
}
