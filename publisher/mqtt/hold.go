package mqtt

import (
	"maps"
	"time"
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
}

func newHoldState(retry time.Duration) holdState {
	return holdState{held: map[string]byte{}, exempt: map[string]struct{}{}, refused: map[string]byte{},
		first: retry, every: retry}
}

// acked notes that the buffer was acknowledged through seq: once that
// reaches through, topics no longer held need no exemption.
func (h *holdState) acked(seq uint64) {
	if seq < h.through || len(h.exempt) == len(h.held) {
		return
	}
	clear(h.exempt)
	for t := range maps.Keys(h.held) {
		h.exempt[t] = struct{}{}
	}
}
