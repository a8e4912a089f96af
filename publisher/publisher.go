// Package publisher sends committed readings from the durable buffer to an
// MQTT broker as JSON messages (docs/message-format.md) and acknowledges them
// to the buffer only once the broker has: at QoS 1 when the PUBACK arrived,
// at QoS 0 when the message was written to the connection.
//
// A Publisher owns one broker connection at a time (paho, with paho's own
// reconnecting switched off) and rebuilds it with capped exponential backoff.
// After a connection loss or a missing PUBACK it resends from the last seq it
// acknowledged, so the only duplicates a consumer sees are readings that were
// sent and not yet acknowledged; each carries its seq to drop them by. At
// QoS 0 what is in flight when the bridge crashes or the connection drops is
// lost instead.
//
// Each message must be written to the connection within the connect timeout
// (paho's write timeout), or the connection counts as lost.
//
// For shutdown, stop the inputs, call Drain with a deadline, then cancel
// Run's context.
package publisher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	"factorybridge"
	"factorybridge/config"
)

// Option defaults.
const (
	DefaultReadBatch     = 4096 // one group commit at most, so a segment is decoded once
	DefaultIdlePoll      = 250 * time.Millisecond
	DefaultMinBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
	MinAckTimeout        = 10 * time.Second
	ackTimeoutKeepAlives = 2
)

// ErrAlreadyRunning is returned by a second call of Run.
var ErrAlreadyRunning = errors.New("publisher is already running")

// Options are the publisher's dependencies and tuning. Zero values mean the
// documented defaults.
type Options struct {
	// BridgeID names the bridge in every message. Required.
	BridgeID string
	// Queue is the buffer readings are read from and acknowledged to. Required.
	Queue factorybridge.Queue
	// Logger receives connection state changes and rejected readings; nil
	// discards them.
	Logger *slog.Logger
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
	// Hub, when set, publishes to Azure IoT Hub or IoT Edge instead of
	// cfg's broker: cfg then only tunes packing and the connection.
	Hub *Hub
}

// Publisher publishes readings from a Queue to an MQTT broker. Create it with
// New and start it with Run; Stats and Drain may be called from any goroutine.
type Publisher struct {
	cfg      config.MQTT
	opts     Options
	log      *slog.Logger
	broker   *url.URL
	clientID string
	qos      byte
	topics   *topicTemplate
	// oeeTopics renders the topics of OEE records (oee.go).
	oeeTopics *topicTemplate
	packer    *packer
	stats     counters
	// hub is the IoT Hub dialect (hub.go); nil for a plain MQTT broker.
	hub *hubDialect
	// limiter caps the send rate; nil for none.
	limiter *rateLimiter

	running   atomic.Bool
	done      chan struct{} // closed when Run returns
	draining  atomic.Bool
	drained   chan struct{} // closed by Run once a drain completed
	isDrained bool          // Run's own record that drained is closed

	rejecting map[string]struct{} // nodes in an episode of oversized readings
	payloads  [][]byte            // reusable message buffers
}

// New validates cfg and opts and returns a Publisher; it does no I/O (TLS
// files are read when Run starts). cfg is expected to have its defaults
// applied; New still refuses values it cannot work with.
func New(cfg config.MQTT, opts Options) (*Publisher, error) {
	if err := validateOptions(&opts); err != nil {
		return nil, err
	}
	qos, err := checkMQTT(cfg)
	if err != nil {
		return nil, err
	}
	p := &Publisher{
		cfg: cfg, qos: qos, clientID: cfg.ClientID,
		packer:    newPacker(opts.BridgeID, cfg.Encoding, cfg.MaxMessageBytes),
		done:      make(chan struct{}),
		drained:   make(chan struct{}),
		rejecting: map[string]struct{}{},
	}
	if opts.Hub != nil {
		err = p.setHub(*opts.Hub, opts.BridgeID)
	} else {
		err = p.setBroker(cfg, opts.BridgeID)
	}
	if err != nil {
		return nil, err
	}
	applyDefaults(&opts, &p.cfg)
	p.opts, p.log = opts, opts.Logger
	return p, nil
}

// setBroker configures a plain MQTT broker from cfg.
func (p *Publisher) setBroker(cfg config.MQTT, bridgeID string) error {
	var err error
	if p.broker, err = parseBroker(cfg); err != nil {
		return err
	}
	if p.topics, err = parseTopic(cfg.Topic, bridgeID); err != nil {
		return fmt.Errorf("mqtt.topic: %w", err)
	}
	if p.oeeTopics, err = parseTopic(cmp.Or(cfg.OEETopic, config.DefaultOEETopic), bridgeID); err != nil {
		return fmt.Errorf("mqtt.oee_topic: %w", err)
	}
	if p.clientID == "" {
		p.clientID = "factorybridge-" + bridgeID
	}
	return nil
}

// setHub configures IoT Hub's dialect: QoS 1, the hub's size limit, and
// the broker, ClientId and topics of the identity.
func (p *Publisher) setHub(h Hub, bridgeID string) error {
	d, err := newHubDialect(h, bridgeID)
	if err != nil {
		return err
	}
	switch {
	case p.qos != 1:
		return errors.New("iothub: messages are sent at QoS 1; mqtt.qos must be 1")
	case p.cfg.MaxMessageBytes > config.DefaultIoTHubMaxPayload:
		return fmt.Errorf("iothub: mqtt.max_message_bytes = %d is over the hub's limit (at most %d)", p.cfg.MaxMessageBytes, config.DefaultIoTHubMaxPayload)
	}
	if d.Reporter == nil {
		d.Reporter = statsReporter{p}
	}
	p.hub, p.broker, p.clientID = d, d.brokerURL(), d.Identity.ClientID()
	p.topics, p.oeeTopics = d.topics()
	if d.MaxMessagesPerSecond > 0 {
		p.limiter = newRateLimiter(d.MaxMessagesPerSecond)
	}
	return nil
}

func validateOptions(o *Options) error {
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

// checkMQTT checks the packing settings and returns the QoS to publish at.
func checkMQTT(cfg config.MQTT) (byte, error) {
	qos := config.DefaultQoS
	if cfg.QoS != nil {
		qos = *cfg.QoS
	}
	switch {
	case qos != 0 && qos != 1:
		return 0, fmt.Errorf("mqtt.qos = %d: want 0 or 1", qos)
	case cfg.MaxMessageBytes < MinMessageBytes || cfg.MaxMessageBytes > 256<<20:
		return 0, fmt.Errorf("mqtt.max_message_bytes = %d: want %d to %d", cfg.MaxMessageBytes, MinMessageBytes, 256<<20)
	case cfg.MaxInflight < 1 || cfg.MaxInflight > 65535:
		return 0, fmt.Errorf("mqtt.max_inflight = %d: want 1 to 65535", cfg.MaxInflight)
	case cfg.Encoding != EncodingCompact && cfg.Encoding != EncodingFlat:
		return 0, fmt.Errorf("mqtt.encoding = %q: want %q or %q", cfg.Encoding, EncodingCompact, EncodingFlat)
	case cfg.MaxBatchDelay < 0 || cfg.KeepAlive < 0 || cfg.ConnectTimeout < 0:
		return 0, errors.New("mqtt: max_batch_delay, keep_alive and connect_timeout may not be negative")
	}
	return byte(qos), nil
}

// applyDefaults fills in zero options, and a zero connect timeout, which
// paho would take as "wait forever" and so hang a shutdown.
func applyDefaults(o *Options, cfg *config.MQTT) {
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = config.Duration(config.DefaultConnectTimeout)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.ReadBatch == 0 {
		o.ReadBatch = DefaultReadBatch
	}
	if o.AckTimeout == 0 {
		o.AckTimeout = max(ackTimeoutKeepAlives*cfg.KeepAlive.D(), MinAckTimeout)
	}
	if o.IdlePoll == 0 {
		o.IdlePoll = DefaultIdlePoll
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
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
	if p.hub != nil {
		if err := p.hub.load(); err != nil {
			return err
		}
		return p.connectLoop(ctx, nil)
	}
	tlsCfg, err := p.tlsConfig()
	if err != nil {
		return err
	}
	return p.connectLoop(ctx, tlsCfg)
}

// Drain is the bounded final publish of a shutdown. Call it after the inputs
// have stopped, while Run runs: Run then sends partly filled messages without
// waiting for max_batch_delay, and Drain returns nil once the Queue had
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

// ErrNotRunning is returned by Drain when Run has returned.
var ErrNotRunning = errors.New("publisher is not running")

// Stats returns the publisher's counters and state.
func (p *Publisher) Stats() Stats { return p.stats.snapshot() }
