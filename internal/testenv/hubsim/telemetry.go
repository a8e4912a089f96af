package hubsim

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// MaxTelemetrySize is the hub's device-to-cloud message limit, counted over
// the payload and the property names and values.
const MaxTelemetrySize = 256 * 1024

// Message is a telemetry message the hub accepted.
type Message struct {
	DeviceID string
	ModuleID string // empty for a device
	Topic    string // as published, property bag included
	// Properties is the decoded property bag, system properties ($.ct, $.ce,
	// $.mid, …) included.
	Properties map[string]string
	Payload    []byte
	At         time.Time
}

// telemetry accepts a telemetry PUBLISH: it is called before the broker
// sends the PUBACK (or the throttle's queue delays it), so OnMessage has
// returned by the time a client has its acknowledgement.
func (h *Hub) telemetry(c *conn, pk packets.Packet, bag string) *violation {
	props, err := parseBag(bag)
	if err != nil {
		return violate(ReasonMalformed, "property bag %q: %v", bag, err)
	}
	if n := messageSize(pk.Payload, props); n > MaxTelemetrySize {
		return violate(ReasonTooLarge, "telemetry of %d bytes (payload and properties), limit %d", n, MaxTelemetrySize)
	}
	now := time.Now()
	if !h.admit(c.id, now) {
		return violate(ReasonThrottled, "over %d messages per second", h.opts.MaxMessagesPerSecond)
	}
	wait, ok := h.schedule(now)
	if !ok {
		return violate(ReasonThrottled, "hub-wide throttle of %v sends/s: %d queued", h.opts.Throttle.PerSecond, h.opts.Throttle.Queue)
	}
	h.delayAck(c, pk, wait)
	m := Message{
		DeviceID: c.id.key.device, ModuleID: c.id.key.module, Topic: pk.TopicName,
		Properties: props, Payload: pk.Payload, At: now,
	}
	if h.opts.OnMessage != nil {
		h.opts.OnMessage(m)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = appendCapped(h.msgs, m, h.keep())
	h.count++
	h.changed()
	return nil
}

func messageSize(payload []byte, props map[string]string) int {
	n := len(payload)
	for k, v := range props {
		n += len(k) + len(v)
	}
	return n
}

// admit counts a message against the identity's sliding one-second window.
func (h *Hub) admit(id *identity, now time.Time) bool {
	limit := h.opts.MaxMessagesPerSecond
	if limit <= 0 {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := 0
	for old < len(id.sent) && now.Sub(id.sent[old]) >= time.Second {
		old++
	}
	id.sent = id.sent[old:]
	if len(id.sent) >= limit {
		return false
	}
	id.sent = append(id.sent, now)
	return true
}

// parseBag decodes a property bag the way the hub does (Microsoft's
// UrlEncodedDictionarySerializer): "name=value" pairs joined by '&'; a raw
// '/' ends the bag (what follows is ignored); an empty pair, a pair starting
// with '=', a second '=' in a pair or a trailing '&' are errors; a name
// without '=' has an empty value. Names and values are percent-decoded but
// '+' stays '+' (it is not a space), and a bad escape stays as sent.
func parseBag(bag string) (map[string]string, error) {
	props := map[string]string{}
	if i := strings.IndexByte(bag, '/'); i >= 0 {
		bag = strings.TrimSuffix(bag[:i], "&") // "a=b&/" ends cleanly
	}
	if bag == "" {
		return props, nil
	}
	for _, pair := range strings.Split(bag, "&") {
		name, value, _ := strings.Cut(pair, "=")
		switch {
		case pair == "":
			return nil, errors.New("empty property")
		case name == "":
			return nil, fmt.Errorf("property %q has no name", pair)
		case strings.Contains(value, "="):
			return nil, fmt.Errorf("unencoded '=' in the value of %q", pair)
		}
		props[unescape(name)] = unescape(value)
	}
	return props, nil
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
