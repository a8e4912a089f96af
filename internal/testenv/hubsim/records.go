package hubsim

import (
	"context"
	"time"
)

// Reason says why the stand-in refused or closed a connection; tests compare
// it with the constants below.
type Reason string

// Reasons for refusing a CONNECT, then for closing a live connection.
const (
	ReasonProtocol     Reason = "protocol version"   // not MQTT 3.1.1
	ReasonUnknownID    Reason = "unknown identity"   // ClientId names no registered device or module
	ReasonBadUsername  Reason = "bad username"       // not {host}/{clientId}/?api-version=…
	ReasonBadToken     Reason = "malformed token"    // password is no device/module SAS token
	ReasonBadResource  Reason = "wrong resource"     // sr is not this identity's resource URI
	ReasonBadSignature Reason = "bad signature"      // sig does not match the key
	ReasonBadCert      Reason = "bad client cert"    // X.509: no verified certificate with CN = device ID
	ReasonAuthMethod   Reason = "wrong auth method"  // SAS for an X.509 device, or no password for a SAS one
	ReasonTokenExpired Reason = "token expired"      // also closes a connection when its token expires
	ReasonTakenOver    Reason = "taken over"         // closed: a new connection with the same ClientId
	ReasonDisconnected Reason = "disconnected"       // closed: Hub.Disconnect
	ReasonQoS2         Reason = "qos 2"              // closed: PUBLISH with QoS 2
	ReasonRetain       Reason = "retain"             // closed: PUBLISH with the retain flag
	ReasonTopic        Reason = "topic not allowed"  // closed: PUBLISH to a topic the identity may not use
	ReasonMalformed    Reason = "malformed"          // closed: bad property bag, missing $rid, wildcard in a topic name
	ReasonTooLarge     Reason = "too large"          // closed: telemetry over 256 KB or method response over 128 KB
	ReasonSubscribe    Reason = "subscription"       // closed: SUBSCRIBE to a filter the hub does not offer
	ReasonTooManySubs  Reason = "subscription limit" // closed: more than 5 subscriptions
	ReasonThrottled    Reason = "throttled"          // closed: over Options.MaxMessagesPerSecond, or the Throttle's queue full
	ReasonBasicTier    Reason = "basic tier"         // closed: methods or twin on a Basic-tier hub (Options.Basic)
)

// Close records one connection the hub refused or closed.
type Close struct {
	ClientID string
	Reason   Reason
	Detail   string // the specifics, for a failure message
	At       time.Time
}

// maxRecords caps the recorded closes and refusals; older ones are dropped.
const maxRecords = 1000

// appendCapped appends v and drops the oldest elements beyond max.
func appendCapped[T any](s []T, v T, max int) []T {
	s = append(s, v)
	if len(s) > max {
		s = s[len(s)-max:]
	}
	return s
}

// changed wakes WaitFor callers; h.mu must be held.
func (h *Hub) changed() {
	close(h.notify)
	h.notify = make(chan struct{})
}

// Closes returns the connections the hub closed, oldest first (the last 1000).
func (h *Hub) Closes() []Close {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Close(nil), h.closes...)
}

// Refusals returns the CONNECTs the hub refused, oldest first (the last 1000).
func (h *Hub) Refusals() []Close {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Close(nil), h.refusals...)
}

// WaitFor returns nil once cond holds, re-checking it whenever the hub's
// state changes (a message, a connection, a close, a refusal, a twin update),
// or ctx's error when ctx ends first. cond may call the Hub's methods.
func (h *Hub) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		h.mu.Lock()
		ch := h.notify
		h.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (h *Hub) recordClose(clientID string, reason Reason, detail string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closes = appendCapped(h.closes, Close{clientID, reason, detail, time.Now()}, maxRecords)
	h.changed()
}

func (h *Hub) recordRefusal(clientID string, reason Reason, detail string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refusals = appendCapped(h.refusals, Close{clientID, reason, detail, time.Now()}, maxRecords)
	h.changed()
}
