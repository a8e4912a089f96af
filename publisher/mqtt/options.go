package mqtt

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"factorybridge"
	"factorybridge/publisher/wire"
)

// Option defaults.
const (
	DefaultTopic           = "factorybridge/{bridge}/{line}/readings"
	DefaultOEETopic        = "factorybridge/{bridge}/{line}/oee"
	DefaultEventTopic      = "factorybridge/{bridge}/{line}/events"
	DefaultQoS             = 1
	DefaultMaxMessageBytes = 256 << 10
	DefaultMaxBatchDelay   = time.Second
	DefaultCycleGrace      = 150 * time.Millisecond
	DefaultMaxInflight     = 32
	DefaultEncoding        = wire.EncodingCompact
	DefaultKeepAlive       = 30 * time.Second
	DefaultConnectTimeout  = 10 * time.Second
	DefaultReadBatch       = 4096 // one group commit at most, so a segment is decoded once
	DefaultIdlePoll        = 250 * time.Millisecond
	DefaultMinBackoff      = 500 * time.Millisecond
	DefaultMaxBackoff      = 30 * time.Second
	DefaultProtocol        = ProtocolAuto
	DefaultSessionExpiry   = 10 * time.Minute
	DefaultProbeTopic      = "factorybridge/{bridge}/probe"
	DefaultHoldRetry       = time.Minute
	MinAckTimeout          = 10 * time.Second
	ackTimeoutKeepAlives   = 2
)

// The values of Options.Protocol (config mqtt.protocol).
const (
	// ProtocolAuto tries MQTT 5 and falls back to MQTT 3.1.1 when the
	// broker refuses MQTT 5.
	ProtocolAuto = "auto"
	// Protocol5 is MQTT 5 only.
	Protocol5 = "5"
	// Protocol311 is MQTT 3.1.1 only.
	Protocol311 = "3.1.1"
)

// Protocols are the valid values of Options.Protocol, in the order
// messages list them.
var Protocols = []string{ProtocolAuto, Protocol5, Protocol311}

// Limits of the options: MQTT's own.
const (
	// MaxMessageBytesLimit is the largest MaxMessageBytes: MQTT's limit on
	// a packet is 256 MB.
	MaxMessageBytesLimit = 256 << 20
	// MaxInflightLimit is the largest MaxInflight: MQTT's packet
	// identifiers are 16 bits.
	MaxInflightLimit = 65535
	// MaxSessionExpiry is the largest SessionExpiry: MQTT 5's interval is
	// 32 bits of seconds.
	MaxSessionExpiry = (1<<32 - 1) * time.Second
)

// Options are the publisher's dependencies, its broker and its tuning. Zero
// values mean the documented defaults.
type Options struct {
	// BridgeID names the bridge in every message. Required.
	BridgeID string
	// Queue is the buffer readings are read from and acknowledged to. Required.
	Queue factorybridge.Queue
	// Logger receives connection state changes and rejected readings; nil
	// discards them.
	Logger *slog.Logger

	// Broker is the plain broker's URL: tcp://, ssl://, tls://, ws:// or
	// wss://host:port. Required without a Dialect; empty with one, as are
	// the other settings of the plain broker up to Dialect below.
	Broker string
	// ClientID defaults to "factorybridge-<BridgeID>".
	ClientID string
	// Topic is the template of readings' topics (wire.ParseTopic); OEETopic
	// that of OEE records. Defaults DefaultTopic and DefaultOEETopic.
	Topic    string
	OEETopic string
	// EventTopic is the template of OPC UA events' topics. Default
	// DefaultEventTopic.
	EventTopic string
	// Username and Password authenticate with the broker; no Username, no
	// authentication.
	Username string
	Password factorybridge.Secret
	// CAFile verifies the broker (default: the system's roots); CertFile
	// and KeyFile are the client certificate and key. TLS brokers only.
	CAFile, CertFile, KeyFile string
	// InsecureSkipVerify accepts any broker certificate, with a WARN at
	// every connection. For tests only.
	InsecureSkipVerify bool
	// Protocol is ProtocolAuto, Protocol5 or Protocol311 (docs/brokers.md).
	// Default DefaultProtocol. With a Dialect it must be empty or
	// Protocol311: services that speak MQTT their own way do so over 3.1.1.
	Protocol string
	// SessionExpiry is how long an MQTT 5 broker keeps the session after a
	// connection broke, so that the next connection resumes the messages
	// in flight rather than reading them again. Default
	// DefaultSessionExpiry; at most MaxSessionExpiry.
	SessionExpiry time.Duration
	// ProbeTopic is the topic of the delivery check (probe.go): {bridge}
	// is replaced by the bridge id. Default DefaultProbeTopic. The broker
	// must let the bridge publish and subscribe to it.
	ProbeTopic string
	// HoldRetry is how long a topic the broker refused (not authorized,
	// topic name invalid) is held before it is tried again; the wait
	// doubles while it stays refused, up to maxHoldRetry. Default
	// DefaultHoldRetry.
	HoldRetry time.Duration

	// Dialect, when set, speaks a service's own MQTT dialect (iothub) in
	// place of the plain broker above: it says where to connect, how to
	// authenticate and which topics to use.
	Dialect Dialect

	// QoS is 0 or 1; nil means DefaultQoS. At 0 readings are acknowledged
	// to the Queue once written to the connection.
	QoS *int
	// MaxMessageBytes caps one payload: wire.MinMessageBytes to
	// MaxMessageBytesLimit. Default DefaultMaxMessageBytes.
	MaxMessageBytes int
	// MaxBatchDelay is the longest a reading waits to be packed after it
	// was read from the Queue: an upper bound on the wait CycleGrace sets.
	// Default DefaultMaxBatchDelay.
	MaxBatchDelay time.Duration
	// CycleGrace paces the messages by publishing cycle (pacing.go): a
	// message goes out when the publishing cycle of its oldest reading
	// has ended (the reading's time plus its server's interval in
	// PublishingIntervals) and CycleGrace more has passed for the rest of
	// the cycle's readings to come in; a reading of no known cycle waits
	// CycleGrace after it was read, and one read after its cycle's grace
	// waits for its whole cycle. Default DefaultCycleGrace.
	CycleGrace time.Duration
	// PublishingIntervals maps a server's name to the publishing interval
	// of its subscriptions (the shortest, where its nodes differ): how long
	// a reading may wait at its server before the bridge gets it. Readings
	// of servers not in it have no known cycle; nil: none has.
	PublishingIntervals map[string]time.Duration
	// MaxInflight bounds messages sent and not yet acknowledged, at most
	// MaxInflightLimit. Default DefaultMaxInflight.
	MaxInflight int
	// Encoding is one of wire.Encodings. Default DefaultEncoding.
	Encoding string
	// KeepAlive and ConnectTimeout of the connection. Defaults
	// DefaultKeepAlive and DefaultConnectTimeout.
	KeepAlive      time.Duration
	ConnectTimeout time.Duration
	// MaxMessagesPerSecond caps the send rate (a service's throttle); 0
	// means no cap.
	MaxMessagesPerSecond float64

	// ReadBatch is the most readings asked of the Queue at once.
	// Default DefaultReadBatch.
	ReadBatch int
	// AckTimeout is how long a sent message may wait for its acknowledgement
	// before the connection is dropped and rebuilt. Default two keep-alive
	// periods, at least MinAckTimeout.
	AckTimeout time.Duration
	// IdlePoll bounds one blocking Queue.ReadAfter call; it is how soon Drain
	// sees that the queue is empty. Default DefaultIdlePoll.
	IdlePoll time.Duration
	// MinBackoff and MaxBackoff bound the wait between connection attempts,
	// which doubles (with jitter) per failed attempt.
	// Defaults DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// Presence, when set, keeps a retained message on the broker saying
	// whether the bridge is connected, with a last will (presence.go).
	// Plain brokers only.
	Presence *Presence
	// AckLatency, when set, is called with the time from sending to
	// acknowledgement of each message, on Run's goroutine; it must not block.
	AckLatency func(time.Duration)
}

// check refuses what the Publisher cannot work with.
func (o *Options) check() error {
	if err := o.checkDeps(); err != nil {
		return err
	}
	if err := o.checkPacking(); err != nil {
		return err
	}
	if err := o.checkPresence(); err != nil {
		return err
	}
	if o.Dialect != nil && o.hasBroker() {
		return errors.New("mqtt: the broker settings (Broker, ClientID, topics, credentials, TLS files) are set, but the Dialect decides them")
	}
	return o.checkProtocol()
}

// checkProtocol checks the MQTT 5 settings.
func (o *Options) checkProtocol() error {
	switch {
	case o.Protocol != "" && !slices.Contains(Protocols, o.Protocol):
		return fmt.Errorf("mqtt.protocol = %q: want %q, %q or %q", o.Protocol, ProtocolAuto, Protocol5, Protocol311)
	case o.Dialect != nil && o.Protocol != "" && o.Protocol != Protocol311:
		return fmt.Errorf("mqtt.protocol = %q: a Dialect speaks MQTT %s", o.Protocol, Protocol311)
	case o.SessionExpiry < 0 || o.SessionExpiry > MaxSessionExpiry:
		return fmt.Errorf("mqtt.session_expiry = %v: want up to %v", o.SessionExpiry, MaxSessionExpiry)
	case o.HoldRetry < 0:
		return errors.New("mqtt: HoldRetry may not be negative")
	case strings.ContainsAny(o.ProbeTopic, "+#\x00"):
		return fmt.Errorf("mqtt.probe_topic = %q: a topic to publish to may not contain a wildcard or NUL", o.ProbeTopic)
	}
	return nil
}

func (o *Options) checkDeps() error {
	switch {
	case o.BridgeID == "":
		return errors.New("publisher: Options.BridgeID is required")
	case o.Queue == nil:
		return errors.New("publisher: Options.Queue is required")
	case o.ReadBatch < 0, o.AckTimeout < 0, o.IdlePoll < 0, o.MinBackoff < 0, o.MaxBackoff < 0:
		return errors.New("publisher: Options values may not be negative")
	}
	return nil
}

// checkPacking checks the settings of packing and the connection; zero
// means the default.
func (o *Options) checkPacking() error {
	switch {
	case o.QoS != nil && *o.QoS != 0 && *o.QoS != 1:
		return fmt.Errorf("mqtt.qos = %d: want 0 or 1", *o.QoS)
	case o.MaxMessageBytes != 0 && (o.MaxMessageBytes < wire.MinMessageBytes || o.MaxMessageBytes > MaxMessageBytesLimit):
		return fmt.Errorf("mqtt.max_message_bytes = %d: want %d to %d", o.MaxMessageBytes, wire.MinMessageBytes, MaxMessageBytesLimit)
	case o.MaxInflight < 0 || o.MaxInflight > MaxInflightLimit:
		return fmt.Errorf("mqtt.max_inflight = %d: want 1 to %d", o.MaxInflight, MaxInflightLimit)
	case o.Encoding != "" && !slices.Contains(wire.Encodings, o.Encoding):
		return fmt.Errorf("mqtt.encoding = %q: want one of %q", o.Encoding, wire.Encodings)
	case o.MaxBatchDelay < 0 || o.CycleGrace < 0 || o.KeepAlive < 0 || o.ConnectTimeout < 0:
		return errors.New("mqtt: max_batch_delay, cycle_grace, keep_alive and connect_timeout may not be negative")
	case o.MaxMessagesPerSecond < 0:
		return errors.New("mqtt: MaxMessagesPerSecond may not be negative")
	}
	return nil
}

// hasBroker reports whether a setting of the plain broker is set.
func (o *Options) hasBroker() bool {
	return o.Broker != "" || o.ClientID != "" || o.Topic != "" || o.OEETopic != "" || o.ProbeTopic != "" || o.Username != "" ||
		o.Password != "" || o.CAFile != "" || o.CertFile != "" || o.KeyFile != "" || o.InsecureSkipVerify
}

// applyDefaults fills in zero options. A zero connect timeout would be
// paho's "wait forever" and so hang a shutdown.
func (o *Options) applyDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.QoS == nil {
		qos := DefaultQoS
		o.QoS = &qos
	}
	o.applyPackingDefaults()
	o.applyTimingDefaults()
	setDefault(&o.SessionExpiry, DefaultSessionExpiry)
	setDefault(&o.HoldRetry, DefaultHoldRetry)
	setDefault(&o.ProbeTopic, DefaultProbeTopic)
	switch {
	case o.Dialect != nil:
		o.Protocol = Protocol311
	case o.Protocol == "":
		o.Protocol = DefaultProtocol
	}
}

func (o *Options) applyPackingDefaults() {
	setDefault(&o.MaxMessageBytes, DefaultMaxMessageBytes)
	setDefault(&o.MaxBatchDelay, DefaultMaxBatchDelay)
	setDefault(&o.CycleGrace, DefaultCycleGrace)
	// Run's goroutine reads the map: a copy, so that the caller's changes
	// after New or Update are not a data race.
	o.PublishingIntervals = maps.Clone(o.PublishingIntervals)
	setDefault(&o.MaxInflight, DefaultMaxInflight)
	setDefault(&o.Encoding, DefaultEncoding)
	setDefault(&o.KeepAlive, DefaultKeepAlive)
	setDefault(&o.ConnectTimeout, DefaultConnectTimeout)
	setDefault(&o.ReadBatch, DefaultReadBatch)
}

func (o *Options) applyTimingDefaults() {
	setDefault(&o.AckTimeout, max(ackTimeoutKeepAlives*o.KeepAlive, MinAckTimeout))
	setDefault(&o.IdlePoll, DefaultIdlePoll)
	setDefault(&o.MinBackoff, DefaultMinBackoff)
	setDefault(&o.MaxBackoff, DefaultMaxBackoff)
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}
