package mqtt

// MQTT 5 reason codes the publisher acts on (MQTT 5.0, 2.4 and 3.4.2.1).
// Codes below 0x80 are successes; 0x10 (no matching subscribers) too is
// a delivery: the broker took the message.
const (
	rcUnspecified            = 0x80
	rcImplementationSpecific = 0x83
	rcUnsupportedProtocol    = 0x84
	rcNotAuthorized          = 0x87
	rcServerBusy             = 0x89
	rcTopicNameInvalid       = 0x90
	rcPacketIDInUse          = 0x91
	rcPacketTooLarge         = 0x95
	rcQuotaExceeded          = 0x97
	rcPayloadFormatInvalid   = 0x99
	rcQoSNotSupported        = 0x9B
)

// reasonNames are the MQTT 5 failure reason codes' names as the
// specification's table gives them.
var reasonNames = map[byte]string{
	rcUnspecified:            "unspecified error",
	0x81:                     "malformed packet",
	0x82:                     "protocol error",
	rcImplementationSpecific: "implementation specific error",
	rcUnsupportedProtocol:    "unsupported protocol version",
	0x85:                     "client identifier not valid",
	0x86:                     "bad user name or password",
	rcNotAuthorized:          "not authorized",
	0x88:                     "server unavailable",
	rcServerBusy:             "server busy",
	0x8A:                     "banned",
	0x8B:                     "server shutting down",
	0x8C:                     "bad authentication method",
	0x8D:                     "keep alive timeout",
	0x8E:                     "session taken over",
	rcTopicNameInvalid:       "topic name invalid",
	rcPacketIDInUse:          "packet identifier in use",
	rcPacketTooLarge:         "packet too large",
	0x96:                     "message rate too high",
	rcQuotaExceeded:          "quota exceeded",
	0x98:                     "administrative action",
	rcPayloadFormatInvalid:   "payload format invalid",
	0x9A:                     "retain not supported",
	rcQoSNotSupported:        "QoS not supported",
	0x9C:                     "use another server",
	0x9D:                     "server moved",
	0x9F:                     "connection rate exceeded",
}

func reasonName(code byte) string {
	if n, ok := reasonNames[code]; ok {
		return n
	}
	if code < 0x80 {
		return "success"
	}
	return "unknown reason code"
}

// pubackAction is what the session does with a message whose PUBACK
// carries a failure reason code. None deletes anything.
type pubackAction int

const (
	// retryLater pauses sending with backoff, then resends the message
	// (quota exceeded, and every code without a rule of its own).
	retryLater pubackAction = iota
	// shrink lowers the message size and resends the message's readings
	// in smaller messages (packet too large).
	shrink
	// hold stops sending the message's topic and keeps its readings
	// buffered, retried now and then (not authorized, topic name invalid).
	hold
)

// actionFor returns what to do with a PUBACK failure code.
func actionFor(code byte) pubackAction {
	switch code {
	case rcPacketTooLarge:
		return shrink
	case rcNotAuthorized, rcTopicNameInvalid:
		return hold
	}
	return retryLater
}

// holdAdvice says what the operator should fix when the broker refuses a
// topic with code.
func holdAdvice(code byte) string {
	if code == rcTopicNameInvalid {
		return "the broker does not accept this topic name: change mqtt.topic or mqtt.oee_topic (or the line and station names in it)"
	}
	return "grant the bridge's broker user the right to publish to this topic (the broker's ACL), or change mqtt.topic"
}
