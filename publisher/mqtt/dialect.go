package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"net/url"
	"time"

	"factorybridge/publisher/wire"
)

// Dialect adapts the Publisher to a service that speaks MQTT its own way
// (publisher/iothub): where and as whom to connect, what each connection
// authenticates with, the topics, and what runs beside each session.
// Options without a Dialect publish to the plain broker they configure.
//
// The QoS, the size limit and the send-rate cap are Options; a dialect
// with rules for them (IoT Hub: QoS 1, 256 KB) checks the Options it
// builds the Publisher with.
type Dialect interface {
	// Endpoint returns the broker's URL (tcp, ssl, tls, ws or wss) and
	// the ClientId to connect with. New calls it once, and Update once on
	// the Dialect it is given.
	Endpoint() (broker *url.URL, clientID string)
	// Topics returns the templates of the topics of readings and of OEE
	// records. New and Update call it once; only Run's goroutines render
	// them.
	Topics() (readings, oee *wire.Topic)
	// Load reads what the connections need from files (certificates). Run
	// calls it once when it starts and returns its error; Update calls it
	// on the Dialect it is given, and refuses the update on an error.
	Load() error
	// Credentials returns what one connection attempt authenticates with.
	// An error fails the attempt, which is retried with backoff.
	Credentials(ctx context.Context, now time.Time) (Credentials, error)
	// MessageTopic returns the topic a message is published on, given the
	// topic its template rendered, its first seq and its payload's size.
	// It is called once per message sent, resends included, so a dialect
	// may also meter messages here. first is 0 for a message that holds
	// no reading (pubsub-json metadata).
	MessageTopic(topic string, first uint64, size int) string
	// Session runs beside the publishing over one connection until ctx
	// ends; the connection is closed only after it returned. A non-nil
	// error ends the session: the connection is made again with backoff.
	// Returning nil ends only Session. An update that keeps the connection
	// leaves it running: the Dialect that started it serves it to the end.
	Session(ctx context.Context, c Conn) error
}

// EventTopics is a Dialect with a topic of its own for OPC UA events; a
// dialect without one sends events on its readings' topics.
type EventTopics interface {
	// EventTopic returns the template of events' topics. New and Update
	// call it once.
	EventTopic() *wire.Topic
}

// Credentials are what one connection authenticates with.
type Credentials struct {
	// TLS configures TLS with ssl, tls and wss brokers; nil for plain ones.
	TLS *tls.Config
	// Username and Password go in CONNECT when Username is set.
	Username, Password string
	// RenewAt is when they must be renewed: the Publisher then stops
	// sending, waits for the in-flight window to empty and connects again
	// with fresh credentials (Stats.TokenRenewals, not a reconnect). Zero:
	// never.
	RenewAt time.Time
}

// Conn is one broker connection as a Dialect's Session sees it.
type Conn interface {
	// Subscribe subscribes to filters (topic filter → QoS) and waits for
	// the SUBACK, at most the connect timeout. Each message received is
	// passed to handle on the client's goroutine, which it must not block.
	// It fails when the broker refuses a filter.
	Subscribe(filters map[string]byte, handle func(topic string, payload []byte)) error
	// Publish sends a message without waiting for its acknowledgement and
	// outside the in-flight window: for a dialect's control traffic, not
	// for readings.
	Publish(topic string, qos byte, payload []byte)
}

// ErrSubscriptionRefused is the error of a Conn.Subscribe whose filter the
// broker refused (SUBACK return code 0x80).
var ErrSubscriptionRefused = errors.New("refused by the broker")
