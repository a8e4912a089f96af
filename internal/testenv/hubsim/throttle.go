package hubsim

import (
	"math"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Throttle is the hub-wide device-to-cloud send throttle (all identities
// together, as the hub's throttles are per hub and tier: S1 the higher of
// 100/s and 12/s per unit, S2 120/s per unit, S3 6,000/s per unit). Like the
// hub's traffic shaping, sends over the rate are not refused at once: they
// are queued and processed at the rate, so their PUBACKs come late; only
// when the queue is full does the hub refuse (429 ThrottlingException),
// which over MQTT closes the connection (ReasonThrottled). A message is
// recorded when it is queued: the hub keeps it even if the connection is
// closed before its PUBACK went out.
type Throttle struct {
	// PerSecond is the rate sends are processed at; 0 means no throttle.
	PerSecond float64
	// Queue is how many sends may wait; 0 means no limit.
	Queue int
}

// throttleState is the hub-wide queue: when the next send will be
// processed. Guarded by Hub.mu.
type throttleState struct {
	next      time.Time
	maxDelay  time.Duration // the longest PUBACK delay so far
	delayed   int           // sends whose PUBACK was delayed
	throttled int           // sends refused: the queue was full
}

// schedule returns how long the send arriving at now waits in the queue
// (zero: processed at once), or false when the queue is full.
func (h *Hub) schedule(now time.Time) (time.Duration, bool) {
	th := h.opts.Throttle
	if th.PerSecond <= 0 {
		return 0, true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	st := &h.throttle
	start := st.next
	if start.Before(now) {
		start = now
	}
	wait := start.Sub(now)
	if th.Queue > 0 && wait.Seconds()*th.PerSecond >= float64(th.Queue) {
		st.throttled++
		return 0, false
	}
	st.next = start.Add(time.Duration(math.Round(float64(time.Second) / th.PerSecond)))
	if wait > 0 {
		st.delayed++
		st.maxDelay = max(st.maxDelay, wait)
	}
	return wait, true
}

// ThrottleStats reports the hub-wide throttle's effect so far: sends whose
// PUBACK it delayed, the longest delay, and sends it refused by closing
// the connection.
func (h *Hub) ThrottleStats() (delayed int, maxDelay time.Duration, refused int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.throttle.delayed, h.throttle.maxDelay, h.throttle.throttled
}

// delayAck arranges for the PUBACK of a queued send to go out after wait:
// OnPublish then keeps the broker from acknowledging it at once.
func (h *Hub) delayAck(c *conn, pk packets.Packet, wait time.Duration) {
	if wait <= 0 || pk.FixedHeader.Qos == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.delayed == nil {
		c.delayed = map[uint16]time.Duration{}
	}
	c.delayed[pk.PacketID] = wait
}

// onPublish takes over the acknowledgement of a queued send, if pk is one.
func (h *Hub) onPublish(cl *mqtt.Client, pk packets.Packet) error {
	h.mu.Lock()
	c := h.conns[cl]
	var wait time.Duration
	if c != nil {
		wait = c.delayed[pk.PacketID]
		delete(c.delayed, pk.PacketID)
	}
	h.mu.Unlock()
	if wait == 0 {
		return nil
	}
	time.AfterFunc(wait, func() {
		_ = cl.WritePacket(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
	})
	return packets.ErrRejectPacket // handled: the broker neither acknowledges nor routes it
}
