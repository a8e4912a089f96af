package mqtt

import (
	"context"
	"fmt"
	"log/slog"
)

// prepare sets up publishing over a new connection: it refuses a broker
// that cannot take the configured QoS, sizes the in-flight window and the
// messages to what the broker allows, runs the delivery check, and resumes
// the session the broker kept or starts a new one from the last
// acknowledged seq.
func (p *Publisher) prepare(ctx context.Context, l *link) (*session, error) {
	if l.caps.maxQoS < p.qos {
		return nil, fmt.Errorf("the broker takes QoS %d at most (CONNACK Maximum QoS) but mqtt.qos is %d: readings stay buffered; "+
			"with mqtt.qos = 0 they would be deleted once written, acknowledged or not", l.caps.maxQoS, p.qos)
	}
	window := p.windowOf(l)
	limit := p.ceiling(l)
	if l.caps.maxPacket > 0 {
		p.noteLimit(limit, fmt.Sprintf("the broker's Maximum Packet Size is %d bytes", l.caps.maxPacket), slog.LevelInfo)
	}
	topic, checked := p.probing(l)
	if checked {
		var err error
		if limit, err = p.deliveryCheck(ctx, l, topic, limit); err != nil {
			return nil, err
		}
	}
	if s := p.carry; s != nil && l.resumed && s.limit == limit && p.limits.cur == limit && s.resumable() {
		p.carry = nil
		s.window, s.checked = window, checked
		p.log.Debug("mqtt: resuming the session", "in_flight", len(s.inflight))
		return s, nil
	}
	p.carry = nil
	p.packer.Reset()
	p.setLimit(limit)
	s := p.newSession(window, limit)
	s.checked = checked
	return s, nil
}

// windowOf is the in-flight window of a connection: MaxInflight, at most
// the broker's Receive Maximum.
func (p *Publisher) windowOf(l *link) int {
	if l.caps.receiveMax > 0 {
		return min(p.opts.MaxInflight, l.caps.receiveMax)
	}
	return p.opts.MaxInflight
}

// keep holds on to s for the next connection when the broker may keep the
// session (MQTT 5 with a session expiry, QoS 1): its messages in flight are
// then resent by paho, not read again.
func (p *Publisher) keep(s *session, l *link) {
	p.carry = nil
	if l.protocol == Protocol5 && p.opts.SessionExpiry > 0 && p.qos == 1 {
		p.carry = s
	}
}

// resumable reports whether every message in flight is still with the
// broker: none failed without an answer (a publish the lost connection cut
// off never entered the session, and only a new read sends it again).
func (s *session) resumable() bool {
	for _, m := range s.inflight {
		select {
		case <-m.token.Done():
			if err := m.token.Err(); err != nil {
				if _, ok := reasonCode(err); !ok {
					return false
				}
			}
		default:
		}
	}
	return true
}
