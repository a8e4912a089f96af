package mqtt

import (
	"fmt"
	"log/slog"
	"time"

	"factorybridge"
	"factorybridge/publisher/wire"
)

// rewindPlan is a start-over the session waits for: once the in-flight
// window is empty and at is reached, the builders and unpacked readings are
// dropped and reading starts again after the acknowledged seq. Readings
// already delivered are skipped then (holdState.through), so what is sent
// again is what the broker refused, plus what it took after that within
// the window.
type rewindPlan struct {
	at      time.Time
	release bool // the held topics are tried again
}

// refused handles a message the broker answered with a failure reason
// code. Nothing of it is acknowledged to the Queue.
func (s *session) refused(m *message, err error) {
	code, _ := reasonCode(err)
	switch actionFor(code) {
	case hold:
		s.hold(m, code, err)
	case shrink:
		if !s.shrink(m, err) {
			s.retryLater(m, err)
		}
	default:
		s.retryLater(m, err)
	}
}

// accepted notes a message the broker took: a refusal episode of its
// topic, or of the broker as a whole, is over.
func (s *session) accepted(m *message) {
	p := s.p
	if p.pauses.cur > 0 {
		p.pauses.reset()
		p.log.Info("mqtt: the broker takes messages again", "broker", p.broker.Redacted())
	}
	if code, ok := p.holds.refused[m.topic]; ok {
		delete(p.holds.refused, m.topic)
		if len(p.holds.refused) == 0 {
			p.holds.every = p.holds.first
		}
		p.log.Info("mqtt: the broker accepts the topic again; its held readings are being sent",
			"topic", m.topic, "refused_with", fmt.Sprintf("0x%02X", code))
	}
}

// retryLater keeps m's readings for a resend after a pause that grows
// while the broker keeps refusing (quota exceeded, server busy, and codes
// without a rule of their own). One WARN per episode.
func (s *session) retryLater(m *message, err error) {
	s.failedLow = min(s.failedLow, m.first)
	if s.rw != nil {
		return
	}
	first := s.p.pauses.cur == 0
	pause := s.p.pauses.next()
	s.rw = &rewindPlan{at: time.Now().Add(pause)}
	if first {
		s.p.log.Warn("mqtt: the broker refused a message; pausing, then sending it again", "topic", m.topic,
			"seq", m.first, "error", err, "pause", pause.Round(time.Millisecond))
	}
}

// shrink lowers the message size below m's, which the broker refused as
// too large, and starts over so that m's readings go out in smaller
// messages. It reports false when m was already small: then the size is
// not what the broker minds.
func (s *session) shrink(m *message, err error) bool {
	n := max(len(m.payload)/2, wire.MinMessageBytes)
	if len(m.payload) <= wire.MinMessageBytes {
		return false
	}
	s.limit = min(s.limit, n)
	s.failedLow = min(s.failedLow, m.first)
	if s.rw == nil {
		s.rw = &rewindPlan{at: time.Now()}
	}
	s.p.noteLimit(s.limit, fmt.Sprintf("the broker refused a message of %d bytes as too large (%v); set the key to at most this size", len(m.payload), err), slog.LevelWarn)
	return true
}

// hold stops sending m's topic, which the broker refuses (not authorized,
// topic name invalid): its readings stay in the buffer (the Queue is
// acknowledged below them) while other topics flow, and the topic is tried
// again after HoldRetry, then at growing intervals. One ERROR per topic
// until the broker accepts it again.
func (s *session) hold(m *message, code byte, err error) {
	p, topic := s.p, m.topic
	h := &p.holds
	if len(h.held) == 0 {
		h.retryAt = time.Now().Add(h.every)
	}
	h.held[topic] = code
	h.exempt[topic] = struct{}{}
	s.heldLow = min(s.heldLow, m.first)
	for _, b := range p.packer.TopicBuilders(topic) {
		s.heldLow = min(s.heldLow, b.First())
		p.packer.Release(b)
	}
	if _, ok := h.refused[topic]; ok {
		return
	}
	h.refused[topic] = code
	p.log.Error("mqtt: the broker refuses a topic; its readings stay buffered while the others flow, and it is tried again",
		"topic", topic, "error", err, "fix", holdAdvice(code), "retry_in", h.every)
}

// skip reports whether r, of topic, is not to be packed: its topic is held
// (it stays buffered), or it was delivered before reading started over.
func (s *session) skip(r *factorybridge.Reading, topic string) bool {
	h := &s.p.holds
	if len(h.held) > 0 {
		if _, ok := h.held[topic]; ok {
			s.heldLow = min(s.heldLow, r.Seq)
			return true
		}
	}
	if r.Seq > h.through {
		return false
	}
	return !h.isExempt(r, topic)
}

// retryHolds plans a rewind that tries the held topics again when they are due.
func (s *session) retryHolds(now time.Time) {
	h := &s.p.holds
	if len(h.held) == 0 || s.rw != nil || now.Before(h.retryAt) {
		return
	}
	s.rw = &rewindPlan{at: now, release: true}
	h.every = min(2*h.every, max(h.first, maxHoldRetry))
	h.retryAt = now.Add(h.every)
}

// rewindIfReady carries out a planned rewind once nothing is in flight or
// being read and its pause is over.
func (s *session) rewindIfReady(now time.Time) error {
	if s.rw == nil || len(s.inflight) > 0 || s.reading || now.Before(s.rw.at) {
		return nil
	}
	if err := s.ackFront(); err != nil {
		return err
	}
	release := s.rw.release
	s.rw = nil
	s.p.packer.Reset()
	s.p.setLimit(s.limit)
	s.pending, s.next, s.empty = s.pending[:0], 0, false // kept to read into: no read is under way
	s.readPos = s.p.stats.ackedSeq.Load()
	s.heldLow, s.failedLow = noSeq, noSeq
	if release {
		s.p.log.Debug("mqtt: trying the held topics again", "topics", len(s.p.holds.held))
		clear(s.p.holds.held)
	}
	return nil
}

// pauseC returns a channel that fires when a planned rewind's pause ends or
// the held topics are due, or nil when nothing waits for a time.
func (s *session) pauseC() <-chan time.Time {
	var at time.Time
	switch {
	case s.rw != nil && len(s.inflight) == 0:
		at = s.rw.at
	case s.rw == nil && len(s.p.holds.held) > 0:
		at = s.p.holds.retryAt
	default:
		return nil
	}
	s.pause.Reset(time.Until(at))
	return s.pause.C
}

// connectionLost ends the session for a lost connection. A broker that
// disconnected for a packet too large (MQTT 5, reason code 0x95) gets
// messages of half the largest in flight from then on.
func (s *session) connectionLost(err error) error {
	if code, ok := reasonCode(err); ok && code == rcPacketTooLarge {
		largest := 0
		for _, m := range s.inflight {
			largest = max(largest, len(m.payload))
		}
		if largest > wire.MinMessageBytes {
			s.p.limits.cap = max(largest/2, wire.MinMessageBytes)
			s.p.noteLimit(s.p.limits.cap, "the broker disconnected for a packet too large", slog.LevelWarn)
		}
	}
	return fmt.Errorf("connection lost: %w", err)
}
