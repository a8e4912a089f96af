package hubsim

import (
	"maps"
	"slices"
	"strings"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Topic filters a client may subscribe to, besides its devicebound filter.
const (
	methodsFilter = "$iothub/methods/POST/#"
	twinResFilter = "$iothub/twin/res/#"
	desiredFilter = "$iothub/twin/PATCH/properties/desired/#"
)

// maxSubs is the hub's limit of subscriptions at a time.
const maxSubs = 5

// Prefixes of the topics a client may publish to, besides its telemetry.
const (
	twinGetPrefix    = "$iothub/twin/GET/?"
	twinPatchPrefix  = "$iothub/twin/PATCH/properties/reported/?"
	methodResPrefix  = "$iothub/methods/res/"
	devicesPrefix    = "devices/"
	eventsSuffix     = "/messages/events/"
	deviceboundTopic = "/messages/devicebound/#"
)

// telemetryPrefix is where the identity publishes telemetry; the property
// bag follows it.
func telemetryPrefix(k identityKey) string {
	if k.module == "" {
		return devicesPrefix + k.device + eventsSuffix
	}
	return devicesPrefix + k.device + "/modules/" + k.module + eventsSuffix
}

// allowedFilter reports whether the identity may subscribe to filter.
// Modules get no cloud-to-device messages, so no devicebound filter.
func allowedFilter(k identityKey, filter string) bool {
	switch filter {
	case methodsFilter, twinResFilter, desiredFilter:
		return true
	}
	return k.module == "" && filter == devicesPrefix+k.device+deviceboundTopic
}

func (h *Hub) publish(c *conn, pk packets.Packet) *violation {
	topic := pk.TopicName
	switch {
	case pk.FixedHeader.Qos == 2:
		return violate(ReasonQoS2, "PUBLISH to %q with QoS 2", topic)
	case pk.FixedHeader.Retain:
		return violate(ReasonRetain, "PUBLISH to %q with retain", topic)
	case strings.ContainsAny(topic, "+#"):
		return violate(ReasonMalformed, "wildcard in topic name %q (encode '+' as %%2B)", topic)
	case pk.FixedHeader.Qos == 1 && pk.PacketID == 0:
		return violate(ReasonMalformed, "QoS 1 PUBLISH to %q without packet ID", topic)
	}
	if bag, ok := strings.CutPrefix(topic, telemetryPrefix(c.id.key)); ok {
		return h.telemetry(c, pk, bag)
	}
	if h.opts.Basic && strings.HasPrefix(topic, "$iothub/") {
		return violate(ReasonBasicTier, "PUBLISH to %q: a Basic-tier hub has no direct methods or twin", topic)
	}
	if q, ok := strings.CutPrefix(topic, twinGetPrefix); ok {
		return h.twinGet(c, q)
	}
	if q, ok := strings.CutPrefix(topic, twinPatchPrefix); ok {
		return h.twinPatch(c, q, pk.Payload)
	}
	if rest, ok := strings.CutPrefix(topic, methodResPrefix); ok {
		return h.methodResponse(c, rest, pk.Payload)
	}
	return violate(ReasonTopic, "PUBLISH to %q; telemetry goes to %q", topic, telemetryPrefix(c.id.key))
}

// subscribe admits a SUBSCRIBE before its SUBACK goes out, so a client that
// has its SUBACK is subscribed.
func (h *Hub) subscribe(c *conn, pk packets.Packet) *violation {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := maps.Clone(c.id.subs)
	for _, f := range pk.Filters {
		if !allowedFilter(c.id.key, f.Filter) {
			return violate(ReasonSubscribe, "SUBSCRIBE to %q", f.Filter)
		}
		if h.opts.Basic {
			return violate(ReasonBasicTier, "SUBSCRIBE to %q: a Basic-tier hub has no direct methods, twin or cloud-to-device messages", f.Filter)
		}
		subs[f.Filter] = true
	}
	if len(subs) > maxSubs {
		return violate(ReasonTooManySubs, "%d subscriptions %q, limit %d", len(subs), slices.Sorted(maps.Keys(subs)), maxSubs)
	}
	c.id.subs = subs
	return nil
}

func (h *Hub) unsubscribe(c *conn, pk packets.Packet) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range pk.Filters {
		delete(c.id.subs, f.Filter)
	}
}

// subscribed reports whether c is live and its session has filter.
func (h *Hub) subscribed(c *conn, filter string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !c.done && c.id.subs[filter]
}
