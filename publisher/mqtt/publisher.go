// Package mqtt is the MQTT transport of the publisher: it sends committed
// readings from the durable buffer to an MQTT broker as messages in the
// wire format (docs/message-format.md) and acknowledges them to the buffer
// only once the broker has: at QoS 1 when a successful PUBACK arrived, at
// QoS 0 when the message was written to the connection.
//
// It speaks MQTT 5 (paho.golang) or MQTT 3.1.1 (paho.mqtt.golang), by
// Options.Protocol, behind one session (client.go); docs/brokers.md says
// what it reads from an MQTT 5 broker's CONNACK and does with each failure
// reason code (refuse.go: nothing refused is deleted), and how the delivery
// check (probe.go) finds the size a broker delivers where it cannot say.
//
// A Publisher owns one broker connection at a time (with the clients' own
// reconnecting switched off) and rebuilds it with capped exponential
// backoff. After a connection loss or a missing PUBACK it resends from the
// last seq it acknowledged — or, when an MQTT 5 broker kept the session,
// the client resends what was in flight — so the only duplicates a consumer
// sees are readings that were sent and not yet acknowledged; each carries
// its seq to drop them by. At QoS 0 what is in flight when the bridge
// crashes or the connection drops is lost instead.
//
// Each message must be written to the connection within the connect timeout
// (paho's write timeout), or the connection counts as lost.
//
// A service that speaks MQTT its own way (Azure IoT Hub) plugs in as a
// Dialect (dialect.go); without one the Publisher talks to the plain broker
// its Options configure.
//
// Update gives a running Publisher new settings (a configuration reload,
// update.go): it reconnects only when the broker or the identity changed.
//
// For shutdown, stop the inputs, call Drain with a deadline, then cancel
// Run's context.
package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"

	"factorybridge"
	"factorybridge/publisher"
	"factorybridge/publisher/wire"
)

// ErrAlreadyRunning is returned by a second call of Run.
var ErrAlreadyRunning = errors.New("publisher is already running")

// ErrNotRunning is returned by Drain and Update when Run has returned.
var ErrNotRunning = errors.New("publisher is not running")

var _ publisher.Publisher = (*Publisher)(nil)

// Publisher publishes readings from a Queue to an MQTT broker. Create it with
// New and start it with Run; Stats, Drain and Update may be called from any
// goroutine.
type Publisher struct {
	opts     Options
	log      *slog.Logger
	queue    factorybridge.Queue // opts.Queue, which no update changes: the reader's own copy
	bridgeID string              // opts.BridgeID, which no update changes
	dialect  Dialect
	broker   *url.URL
	clientID string
	qos      byte
	topics   topicSet
	packer   *wire.Packer
	stats    counters
	// limiter caps the send rate; nil for none.
	limiter *rateLimiter

	// pending is the latest update not yet applied; wake tells Run that
	// one came (update.go).
	pending atomic.Pointer[update]
	wake    chan struct{}

	running   atomic.Bool
	done      chan struct{} // closed when Run returns
	draining  atomic.Bool
	drained   chan struct{} // closed by Run once a drain completed
	isDrained bool          // Run's own record that drained is closed

	rejecting map[string]struct{} // nodes in an episode of oversized readings
	payloads  [][]byte            // reusable message buffers

	// The protocol: Protocol5 or Protocol311; auto while a refusal of
	// MQTT 5 may still switch it to Protocol311.
	protocol       string
	auto           bool
	state5         *state5  // the MQTT 5 session state, shared by its connections
	sessionStarted bool     // an MQTT 5 connection was made: later ones resume its session
	carry          *session // an MQTT 5 session a resumed connection continues

	limits limitState // message size: configured, found, shrunk
	holds  holdState  // topics the broker refused and what was delivered around them
	pauses backoff    // between resends of messages the broker refused for now
	probe  probeState // the delivery check
}

// New checks opts and returns a Publisher; it does no I/O (TLS files are
// read when Run starts).
func New(opts Options) (*Publisher, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	opts.applyDefaults()
	d := opts.Dialect
	if d == nil {
		b, err := newBroker(&opts)
		if err != nil {
			return nil, err
		}
		d = b
	}
	p := &Publisher{
		opts: opts, log: opts.Logger, queue: opts.Queue, bridgeID: opts.BridgeID, dialect: d, qos: byte(*opts.QoS),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		drained:   make(chan struct{}),
		rejecting: map[string]struct{}{},
		protocol:  opts.Protocol, auto: opts.Protocol == ProtocolAuto,
		state5: newState5(opts.SessionExpiry > 0),
		pauses: backoff{min: opts.MinBackoff, max: opts.MaxBackoff},
		holds:  newHoldState(opts.HoldRetry),
	}
	if p.auto {
		p.protocol = Protocol5
	}
	p.setLimit(opts.MaxMessageBytes)
	p.broker, p.clientID = d.Endpoint()
	p.topics = topicsOf(d)
	if opts.MaxMessagesPerSecond > 0 {
		p.limiter = newRateLimiter(opts.MaxMessagesPerSecond)
	}
	return p, nil
}

// Run connects to the broker and publishes until ctx ends, reconnecting as
// needed. It returns nil when ctx ended, after every goroutine it started has
// ended (waiting at most the connect timeout for a connection attempt under
// way); messages still unacknowledged then are sent again by the next Run.
// It returns an error for what retrying cannot fix: unreadable TLS files or
// a Queue that fails. Run may be called once.
func (p *Publisher) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer close(p.done)
	if err := p.dialect.Load(); err != nil {
		return err
	}
	return p.connectLoop(ctx)
}

// Drain is the bounded final publish of a shutdown. Call it after the inputs
// have stopped, while Run runs: Run then sends partly filled messages without
// waiting for them to be due (pacing.go), and Drain returns nil once the Queue had
// nothing more to read and every message sent was acknowledged. It returns
// ctx's error when ctx ends first (broker unreachable, backlog too large),
// and ErrNotRunning when Run has returned. Drain does not stop Run: cancel
// Run's context afterwards either way. What is not drained stays in the
// buffer for the next start.
func (p *Publisher) Drain(ctx context.Context) error {
	p.draining.Store(true)
	select {
	case <-p.drained:
		return nil
	default:
	}
	select {
	case <-p.drained:
		return nil
	case <-p.done:
		return ErrNotRunning
	case <-ctx.Done():
		return fmt.Errorf("drain publisher: %w", ctx.Err())
	}
}

// Stats returns the publisher's counters and state. BillableUnits are
// zero: a transport built on this one that meters its messages fills them.
func (p *Publisher) Stats() publisher.Stats { return p.stats.snapshot() }
