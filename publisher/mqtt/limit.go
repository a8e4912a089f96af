package mqtt

import (
	"context"
	"fmt"
	"log/slog"

	"factorybridge/publisher/wire"
)

// topicReserve is the topic length the size limit leaves room for when an
// MQTT 5 broker announces a Maximum Packet Size. A message on a longer
// topic that does not fit is treated as refused for its size (send).
const topicReserve = 256

// publishOverhead is the most an MQTT 5 PUBLISH of the bridge adds to its
// payload, with a topic of topicReserve bytes: fixed header, topic, packet
// id, properties (content type, the first and last seq, a topic alias).
const publishOverhead = 5 + 2 + topicReserve + 2 + 4 + (1 + 2 + len(contentType)) +
	(1 + 2 + len(propFirst) + 2 + 20) + (1 + 2 + len(propLast) + 2 + 20) + 3

// limitState is the message size the Publisher packs to: the configured
// MaxMessageBytes, lowered by what each connection's broker allows.
type limitState struct {
	cur int // the packer's maximum
	// cap bounds the size on every later connection, set when a
	// connection broke under a large message: during the delivery check,
	// or by a DISCONNECT for a packet too large. 0: none.
	cap int
	// logged is the last size logged as below the configured one.
	logged int
}

// setLimit makes the packer pack to n bytes; the packer must be empty.
func (p *Publisher) setLimit(n int) {
	if p.packer != nil && p.limits.cur == n {
		return
	}
	p.packer = wire.NewPacker(p.opts.BridgeID, p.opts.Encoding, n)
	p.limits.cur = n
}

// ceiling is the largest message a connection may carry before the
// delivery check: the configured size, under the cap, and under the
// Maximum Packet Size an MQTT 5 broker announced.
func (p *Publisher) ceiling(l *link) int {
	n := p.opts.MaxMessageBytes
	if p.limits.cap > 0 {
		n = min(n, p.limits.cap)
	}
	if l.caps.maxPacket > 0 {
		n = min(n, max(l.caps.maxPacket-publishOverhead, wire.MinMessageBytes/4))
	}
	return n
}

// noteLimit logs a size limit below the configured one, once per value.
func (p *Publisher) noteLimit(n int, how string, level slog.Level) {
	if n >= p.opts.MaxMessageBytes || n == p.limits.logged {
		return
	}
	p.limits.logged = n
	p.log.Log(context.Background(), level, fmt.Sprintf("mqtt: messages are limited to %d bytes: %s", n, how),
		"size", n, "configured", p.opts.MaxMessageBytes, "key", "mqtt.max_message_bytes")
}

// packetSize is the size of the MQTT 5 PUBLISH of m with topic (empty
// when an alias replaces it).
func packetSize(topic string, m outgoing) int {
	props := 1 + 2 + len(contentType) + 3
	if m.first != 0 {
		props += 1 + 2 + len(propFirst) + 2 + digits(m.first) + 1 + 2 + len(propLast) + 2 + digits(m.last)
	}
	rest := 2 + len(topic) + 2 + varintLen(props) + props + len(m.payload)
	return 1 + varintLen(rest) + rest
}

func digits(n uint64) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// varintLen is the length of n as an MQTT variable byte integer.
func varintLen(n int) int {
	k := 1
	for ; n >= 128; n >>= 7 {
		k++
	}
	return k
}
