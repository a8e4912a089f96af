package mqtt

import (
	"fmt"
	"log/slog"
	"time"

	"factorybridge"
	"factorybridge/publisher/wire"
)

// maxRejectingNodes bounds the set of nodes in a rejection episode.
const maxRejectingNodes = 1024

// canSend reports whether a message may be sent now: the window is open
// and the send-rate cap allows it.
func (s *session) canSend() bool {
	return !s.windowShut() && (s.p.limiter == nil || s.p.limiter.ready(time.Now()))
}

// windowShut reports that no message may be sent before an acknowledgement:
// the in-flight window is full, or a rewind waits for it to empty.
func (s *session) windowShut() bool {
	return len(s.inflight) >= s.window || s.rw != nil
}

// pack places pending readings into builders until they are all placed or
// one needs a message sent while the window is full. Nothing is packed
// while a rewind waits (it drops the builders), while an update waits for
// the builders to go out with the settings they were started with, or
// while a token renewal waits for them to go out and be acknowledged.
func (s *session) pack() {
	for s.rw == nil && s.reconf.u == nil && !s.renewing && s.next < len(s.pending) {
		if !s.place(&s.pending[s.next]) {
			return
		}
		s.next++
	}
}

// place adds r to its topic's builder, sending that builder first when r
// does not fit. It reports false, leaving r unplaced, when a send is needed
// and the window is full.
func (s *session) place(r *factorybridge.Reading) bool {
	pk := s.p.packer
	topic := s.p.topicOf(r)
	if s.skip(r, topic) {
		return true
	}
	if !s.roomToHold() {
		return false
	}
	slot := pk.SlotOf(topic, r)
	b := pk.Builder(slot)
	if b == nil {
		if pk.Full() {
			if !s.canSend() {
				return false
			}
			s.send(pk.Oldest())
		}
		b = pk.Start(slot, s.readAt)
	}
	if pk.Add(b, r) {
		s.added(b, r)
		return true
	}
	if b.Count() > 0 {
		if !s.canSend() {
			return false
		}
		if pk.Sparse(b) && s.split(topic) {
			slot = pk.SlotOf(topic, r)
		} else {
			s.send(b)
		}
		b = pk.Start(slot, s.readAt)
		if pk.Add(b, r) {
			s.added(b, r)
			return true
		}
	}
	pk.Release(b)
	s.p.reject(r, s.limit)
	return true
}

// roomToHold sends the oldest builder when the packer holds
// maxHeldReadings readings. It reports false when that is needed and the
// window is full.
func (s *session) roomToHold() bool {
	pk := s.p.packer
	if pk.Held() < maxHeldReadings {
		return true
	}
	if !s.canSend() {
		return false
	}
	s.send(pk.Oldest())
	return true
}

// added notes r, just added to b: its node's rejection episode ends, and
// b is due by r's cycle.
func (s *session) added(b *wire.Builder, r *factorybridge.Reading) {
	s.p.endRejection(r)
	s.holdByCycle(b, r)
}

// split sends every builder of topic and doubles its shards, when the
// window has room for all of them (sending them first keeps each node's
// readings in order across the change). It reports whether it split.
func (s *session) split(topic string) bool {
	bs := s.p.packer.TopicBuilders(topic)
	if len(s.inflight)+len(bs) > s.window {
		return false
	}
	for _, b := range bs {
		s.send(b)
	}
	s.p.packer.Split(topic)
	return true
}

// send finishes b's message and publishes it; the caller checked canSend.
func (s *session) send(b *wire.Builder) {
	topic, first, last, count := b.Topic(), b.First(), b.Last(), b.Count()
	payload := s.p.packer.Finish(b, s.p.getPayload())
	s.sendMetadata(topic)
	now := time.Now()
	s.p.stats.sent(count, len(payload), now) // before the broker can answer
	out := outgoing{topic: s.p.dialect.MessageTopic(topic, first, len(payload)), qos: s.p.qos,
		payload: payload, first: first, last: last}
	if s.p.limiter != nil {
		s.p.limiter.take(now)
	}
	m := &message{token: s.publish(out), payload: payload, topic: topic, first: first, count: count, sentAt: now,
		timeout: s.p.opts.AckTimeout}
	s.inflight = append(s.inflight, m)
	s.sent <- m // never blocks: the channel holds the window
}

// publish sends out, unless it is over the Maximum Packet Size an MQTT 5
// broker announced (a topic longer than the limit leaves room for): it is
// then answered as the broker would, "packet too large".
func (s *session) publish(out outgoing) token {
	if mp := s.l.caps.maxPacket; mp > 0 && packetSize(out.topic, out) > mp {
		return doneToken{&ReasonError{Packet: "PUBLISH (not sent)", Code: rcPacketTooLarge,
			Reason: fmt.Sprintf("over the broker's Maximum Packet Size of %d bytes", mp)}}
	}
	return s.l.client.publish(out)
}

// flushAll sends every builder the window allows (draining).
func (s *session) flushAll() {
	for b := s.p.packer.Oldest(); b != nil && s.canSend(); b = s.p.packer.Oldest() {
		s.send(b)
	}
}

// reject counts a reading too large for any message of limit bytes; it is
// acknowledged past like a published one. One log line per node per
// episode: the episode ends when a reading of the node fits again.
func (p *Publisher) reject(r *factorybridge.Reading, limit int) {
	p.stats.readingsRejected.Add(1)
	if _, ok := p.rejecting[r.Name]; ok {
		return
	}
	if len(p.rejecting) >= maxRejectingNodes {
		clear(p.rejecting)
	}
	p.rejecting[r.Name] = struct{}{}
	p.log.Error("mqtt: reading too large for a message; skipped", slog.String("node", r.Name),
		slog.Uint64("seq", r.Seq), slog.Int("size", p.packer.SizeAlone(r)), slog.Int("limit", limit))
}

// endRejection ends r's node's rejection episode, if any.
func (p *Publisher) endRejection(r *factorybridge.Reading) {
	if len(p.rejecting) > 0 {
		delete(p.rejecting, r.Name)
	}
}

// getPayload returns an empty buffer for a message: a reused one, or nil,
// which the packer allocates at the message's size.
func (p *Publisher) getPayload() []byte {
	if n := len(p.payloads); n > 0 {
		b := p.payloads[n-1]
		p.payloads = p.payloads[:n-1]
		return b[:0]
	}
	return nil
}

// putPayload keeps the buffer of an acknowledged message for reuse; paho no
// longer refers to it. Buffers of messages lost with a connection are left
// to the garbage collector since paho may still hold them.
func (p *Publisher) putPayload(b []byte) {
	if len(p.payloads) <= p.opts.MaxInflight {
		p.payloads = append(p.payloads, b)
	}
}

// topicOf renders the topic of a reading or record.
func (p *Publisher) topicOf(r *factorybridge.Reading) string { return p.topics.render(r) }

// topicSet is the templates of the topics of readings, OEE records and
// OPC UA events, as a Dialect gives them.
type topicSet struct {
	readings, oee, events *wire.Topic
}

// topicsOf returns d's templates; a dialect without a topic of its own for
// events sends them on its readings' topics.
func topicsOf(d Dialect) topicSet {
	var ts topicSet
	ts.readings, ts.oee = d.Topics()
	ts.events = ts.readings
	if et, ok := d.(EventTopics); ok {
		ts.events = et.EventTopic()
	}
	return ts
}

// render renders the topic of a reading or record.
func (ts topicSet) render(r *factorybridge.Reading) string {
	switch r.Class {
	case factorybridge.ClassOEE:
		return ts.oee.Render(r.Server, r.Line, r.Station)
	case factorybridge.ClassEvent:
		return ts.events.Render(r.Server, r.Line, r.Station)
	}
	return ts.readings.Render(r.Server, r.Line, r.Station)
}
