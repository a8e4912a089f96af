package mqtt

import (
	"errors"
	"fmt"
	"time"
)

// client is one broker connection as the session, the delivery check and a
// Dialect's Session use it. Two implementations, one per protocol, let both
// protocols share one session (in-flight window, acknowledgement to the
// Queue, resending): client3 (MQTT 3.1.1, paho.mqtt.golang) and client5
// (MQTT 5, paho.golang).
type client interface {
	// publish sends m. Messages go out in the order publish is called;
	// the token reports the broker's answer.
	publish(m outgoing) token
	// subscribe subscribes to filters (topic filter → QoS) and waits for
	// the SUBACK, at most timeout. handle gets each message received, on
	// the client's goroutine, which it must not block.
	subscribe(filters map[string]byte, handle func(topic string, payload []byte), timeout time.Duration) error
	// unsubscribe waits for the UNSUBACK, at most timeout.
	unsubscribe(timeout time.Duration, topics ...string) error
	// disconnect closes the connection. final tells an MQTT 5 broker to
	// drop the session: no connection will resume it.
	disconnect(final bool)
}

// outgoing is a message to publish. first and last are the seqs of its
// first and last readings, 0 for messages that hold none (probes, a
// dialect's control traffic).
type outgoing struct {
	topic       string
	qos         byte
	payload     []byte
	first, last uint64
	retain      bool // only the presence messages are retained
}

// token is the pending answer to a published message.
type token interface {
	// Done is closed once the answer is known: the acknowledgement at QoS
	// 1, the write at QoS 0, or a failure.
	Done() <-chan struct{}
	// Err is nil when the broker took the message. A failure reason code
	// of MQTT 5 is a *ReasonError; any other error means the message's
	// fate is unknown (the connection failed).
	Err() error
}

// ReasonError is a failure reason code (0x80 or more) an MQTT 5 broker
// answered with: in a PUBACK for one message, or in the CONNACK or
// DISCONNECT for the connection.
type ReasonError struct {
	// Packet is the packet that carried the code: "PUBACK", "CONNACK" or
	// "DISCONNECT".
	Packet string
	// Code is the reason code.
	Code byte
	// Reason is the broker's reason string; often empty.
	Reason string
}

func (e *ReasonError) Error() string {
	s := fmt.Sprintf("%s reason code 0x%02X (%s)", e.Packet, e.Code, reasonName(e.Code))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// reasonCode returns the MQTT 5 failure reason code in err's chain, if any.
func reasonCode(err error) (byte, bool) {
	var re *ReasonError
	if errors.As(err, &re) {
		return re.Code, true
	}
	return 0, false
}

// doneToken is the token of a message whose answer is known when it is
// published: written at QoS 0, or failed before it went out.
type doneToken struct{ err error }

// closedChan is a channel that is always closed.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (t doneToken) Done() <-chan struct{} { return closedChan }
func (t doneToken) Err() error            { return t.err }
