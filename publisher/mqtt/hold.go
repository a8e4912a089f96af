package mqtt

import (
	"maps"
	"time"

	"factorybridge"
)

// maxHoldRetry caps the interval at which held topics are tried again.
const maxHoldRetry = 10 * time.Minute

// holdState is what the Publisher keeps, across connections, about topics
// an MQTT 5 broker refused (PUBACK 0x87 not authorized, 0x90 topic name
// invalid).
//
// The buffer has one acknowledgement cursor, so a held topic's oldest
// reading stops it while other topics flow: their delivered readings stay
// in the buffer, which then fills as in an outage (and, when full, drops
// its oldest readings as it always does). To send them only once,
// through marks how far everything not held was delivered: when reading
// starts over from the cursor (a new connection, a rewind, trying a held
// topic again) readings up to through are skipped unless their topic is
// exempt (held at some point since the cursor last reached through).
// Invariant: every reading with seq ≤ through whose topic is not exempt
// was delivered, and every held topic is exempt.
type holdState struct {
	held    map[string]byte     // topic → the reason code it was refused with; its readings are skipped
	exempt  map[string]struct{} // topics whose readings up to through may be undelivered
	through uint64
	refused map[string]byte // topics whose refusal was logged, until the broker takes one of their messages
	// first is HoldRetry; every is the current retry interval, doubling
	// up to maxHoldRetry; retryAt is when held topics are tried again.
	first, every time.Duration
	retryAt      time.Time
	// former are the topics in force before updates since the exemptions
	// were last reset: a reading up to through is exempt when its topic
	// under any of them is, so that one held under its old topic is not
	// taken for delivered under its new one.
	former []topicSet
}

func newHoldState(retry time.Duration) holdState {
	return holdState{held: map[string]byte{}, exempt: map[string]struct{}{}, refused: map[string]byte{},
		first: retry, every: retry}
}

// acked notes that the buffer was acknowledged through seq: once that
// reaches through, topics no longer held need no exemption.
func (h *holdState) acked(seq uint64) {
	if seq < h.through {
		return
	}
	h.former = nil
	if len(h.exempt) == len(h.held) {
		return
	}
	clear(h.exempt)
	for t := range maps.Keys(h.held) {
		h.exempt[t] = struct{}{}
	}
}

// retopic notes that the topics change from old while readings up to
// through may be exempt.
func (h *holdState) retopic(old topicSet) {
	if len(h.exempt) > 0 {
		h.former = append(h.former, old)
	}
}

// retryEvery makes d the first retry interval; the current one restarts
// from it unless a refusal episode is under way.
func (h *holdState) retryEvery(d time.Duration) {
	h.first = d
	if len(h.refused) == 0 {
		h.every = d
	}
}

// isExempt reports whether r, of topic, may be undelivered although its
// seq is up to through.
func (h *holdState) isExempt(r *factorybridge.Reading, topic string) bool {
	if _, ok := h.exempt[topic]; ok {
		return true
	}
	for _, ts := range h.former {
		if _, ok := h.exempt[ts.render(r)]; ok {
			return true
		}
	}
	return false
}
