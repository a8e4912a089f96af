// Package publisher sends committed readings from the durable buffer to
// where they are consumed, and acknowledges them to the buffer only once
// the receiver has them. Its subpackages are the parts of that job:
//
//   - wire: the message format (encoding, packing into messages up to a
//     size, topic templates, decoding), with no I/O;
//   - mqtt: the MQTT transport (MQTT 5 or 3.1.1), a Publisher per broker,
//     and the Dialect seam through which a service that speaks MQTT its
//     own way plugs in;
//   - iothub: Azure IoT Hub and IoT Edge, a Dialect of mqtt.
//
// This package holds only what the runtime needs of any transport.
package publisher

import (
	"context"
	"time"
)

// Publisher is a transport's publisher as the runtime runs it.
type Publisher interface {
	// Run publishes until ctx ends; it returns an error only for what
	// retrying cannot fix.
	Run(ctx context.Context) error
	// Drain is the bounded final publish of a shutdown: it returns nil once
	// everything read was sent and acknowledged, or ctx's error.
	Drain(ctx context.Context) error
	// Stats returns the counters and state; safe from any goroutine.
	Stats() Stats
}

// Stats describes a publisher at one moment. Counters run since it was
// created; zero times mean "never".
type Stats struct {
	// Connected is true while a connection is up.
	Connected bool
	// MessagesSent counts messages handed to the connection, resends
	// included; MessagesAcked those the receiver acknowledged (PUBACK at
	// QoS 1, written at QoS 0).
	MessagesSent  uint64
	MessagesAcked uint64
	// ReadingsPublished and ReadingsAcked count the readings in those messages.
	ReadingsPublished uint64
	ReadingsAcked     uint64
	// ReadingsRejected counts readings that could not fit in a message even
	// alone; they were skipped and acknowledged to the queue.
	ReadingsRejected uint64
	// BytesSent counts payload bytes of sent messages.
	BytesSent uint64
	// Connections counts every connection made, the first included; a
	// settings update that keeps the connection adds none.
	Connections uint64
	// Reconnects counts connections made after the first, except those
	// made to renew credentials that expire (TokenRenewals) or for
	// settings that changed the broker or the identity (an update).
	Reconnects    uint64
	TokenRenewals uint64
	// BillableUnits estimates the units a metered service bills the
	// messages sent in (resends included; IoT Hub's 4 KB units);
	// BillableUnitsLastHour those of the last 60 minutes. Zero where the
	// transport is not metered (a plain MQTT broker).
	BillableUnits         uint64
	BillableUnitsLastHour uint64
	// AckedSeq is the highest seq acknowledged to the queue.
	AckedSeq uint64
	// LastPublish and LastAck are when a message was last sent and acknowledged.
	LastPublish time.Time
	LastAck     time.Time
	// InFlight is the number of messages sent and not yet acknowledged.
	InFlight int
}
