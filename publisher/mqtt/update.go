package mqtt

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"time"
)

// ErrBridgeIDChanged is returned by Update for Options naming another
// bridge: the id is in every message and topic, and in the default
// ClientId, so it changes only with a restart.
var ErrBridgeIDChanged = errors.New("mqtt: the bridge id cannot change while running")

// update is a set of settings Update accepted, ready to apply: Options with
// their defaults, and the Dialect and topics built from them, its files
// already read.
type update struct {
	opts     Options
	dialect  Dialect
	broker   *url.URL
	clientID string
	topics   topicSet
}

// Update gives the running Publisher new settings; it is safe to call from
// any goroutine, before or while Run runs. opts are checked as New checks
// them; invalid ones return an error and change nothing. BridgeID must be
// the one the Publisher was created with; Queue, Logger and AckLatency are
// ignored (the Publisher keeps those of New). Unlike New, Update reads the
// TLS files (the Dialect's Load), so that unreadable ones are refused here
// rather than failing Run.
//
// Update returns once the settings are accepted; Run applies them at its
// next quiet moment: it stops packing readings, sends the messages it had
// started with the settings they were started with, and waits for the
// broker to acknowledge what is in flight (these keep the settings they
// were sent with; nothing is read again, so nothing is duplicated). Then:
//
//   - settings of messages and pacing (topics, QoS, encoding, sizes,
//     batching, the in-flight window, rate cap, hold retry, timeouts,
//     presence payloads) apply from the next message, on the same
//     connection; a changed presence Online message is published again,
//     retained. KeepAlive, ConnectTimeout, ProbeTopic, the presence
//     Offline message (the last will) and a MaxMessageBytes above the size
//     the delivery check verified take effect from the next connection.
//   - a change of broker or identity (Broker, ClientID, Username, Password,
//     TLS files, InsecureSkipVerify, Protocol, SessionExpiry, the presence
//     Topic, or what the Dialect says needs a connection: Updatable) ends
//     the connection cleanly once the messages in flight were acknowledged
//     (at most ConnectTimeout; what is still unacknowledged then is read
//     again from the Queue, as after any connection loss) and connects with
//     the new settings at once, in Run.
//
// When several updates come before one is applied, the latest wins. Run
// logs one INFO line naming the settings that changed, never their values.
// After Run returned, Update returns ErrNotRunning.
func (p *Publisher) Update(opts Options) error {
	select {
	case <-p.done:
		return ErrNotRunning
	default:
	}
	u, err := p.newUpdate(opts)
	if err != nil {
		return err
	}
	p.pending.Store(u)
	select {
	case p.wake <- struct{}{}:
	default: // Run has a wake-up pending already
	}
	return nil
}

// newUpdate checks opts as New does and prepares them. It reads only the
// Publisher's fields no update changes.
func (p *Publisher) newUpdate(opts Options) (*update, error) {
	if opts.BridgeID != p.bridgeID {
		return nil, fmt.Errorf("%w (%q, running as %q)", ErrBridgeIDChanged, opts.BridgeID, p.bridgeID)
	}
	opts.Queue = p.queue
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
	if err := d.Load(); err != nil {
		return nil, err
	}
	u := &update{opts: opts, dialect: d, topics: topicsOf(d)}
	u.broker, u.clientID = d.Endpoint()
	return u, nil
}

// Updatable is a Dialect that tells what a replacement changes, so that
// an update reconnects only when the connection must change. A Dialect
// without it is taken as changed, with a new connection, whenever Update
// passes another one.
type Updatable interface {
	// Changes compares the dialect with next, built from new settings,
	// and returns the names of the settings that differ (config keys,
	// never values) and whether one of them needs a new connection.
	Changes(next Dialect) (names []string, reconnect bool)
}

// changeList collects the names of changed settings.
type changeList struct {
	names     []string
	reconnect bool
}

// add notes setting name when differs; reconnect says it needs a new
// connection.
func (c *changeList) add(name string, differs, reconnect bool) {
	if differs {
		c.names = append(c.names, name)
		c.reconnect = c.reconnect || reconnect
	}
}

// changes returns the settings u changes and whether one needs a new
// connection. Run's goroutine only: it reads the settings in force.
func (p *Publisher) changes(u *update) changeList {
	var c changeList
	if d, ok := p.dialect.(Updatable); ok {
		c.names, c.reconnect = d.Changes(u.dialect)
	} else if p.dialect != u.dialect {
		c.add("dialect", true, true)
	}
	for _, f := range optionFields {
		c.add(f.name, f.differs(&p.opts, &u.opts), f.reconnect)
	}
	changed, reconnect := presenceChanges(p.opts.Presence, u.opts.Presence)
	c.add("presence", changed, reconnect)
	return c
}

// optionField is a setting of Options besides the plain broker's (the
// broker dialect compares those) and the dependencies.
type optionField struct {
	name      string
	reconnect bool
	differs   func(a, b *Options) bool
}

func field[T comparable](name string, reconnect bool, get func(*Options) T) optionField {
	return optionField{name, reconnect, func(a, b *Options) bool { return get(a) != get(b) }}
}

var optionFields = []optionField{
	field("protocol", true, func(o *Options) string { return o.Protocol }),
	field("session_expiry", true, func(o *Options) time.Duration { return o.SessionExpiry }),
	field("qos", false, func(o *Options) int { return *o.QoS }),
	field("max_message_bytes", false, func(o *Options) int { return o.MaxMessageBytes }),
	field("max_batch_delay", false, func(o *Options) time.Duration { return o.MaxBatchDelay }),
	field("cycle_grace", false, func(o *Options) time.Duration { return o.CycleGrace }),
	{"publishing_interval", false, func(a, b *Options) bool { return !maps.Equal(a.PublishingIntervals, b.PublishingIntervals) }},
	field("max_inflight", false, func(o *Options) int { return o.MaxInflight }),
	field("encoding", false, func(o *Options) string { return o.Encoding }),
	field("keep_alive", false, func(o *Options) time.Duration { return o.KeepAlive }),
	field("connect_timeout", false, func(o *Options) time.Duration { return o.ConnectTimeout }),
	field("max_messages_per_second", false, func(o *Options) float64 { return o.MaxMessagesPerSecond }),
	field("hold_retry", false, func(o *Options) time.Duration { return o.HoldRetry }),
	field("read_batch", false, func(o *Options) int { return o.ReadBatch }),
	field("ack_timeout", false, func(o *Options) time.Duration { return o.AckTimeout }),
	field("idle_poll", false, func(o *Options) time.Duration { return o.IdlePoll }),
	field("min_backoff", false, func(o *Options) time.Duration { return o.MinBackoff }),
	field("max_backoff", false, func(o *Options) time.Duration { return o.MaxBackoff }),
}

// presenceChanges compares two presences: turning it on or off, or moving
// its topic, changes the last will, which only a new connection does.
func presenceChanges(a, b *Presence) (changed, reconnect bool) {
	switch {
	case a == nil && b == nil:
		return false, false
	case a == nil || b == nil || a.Topic != b.Topic:
		return true, true
	}
	return !bytes.Equal(a.Online, b.Online) || !bytes.Equal(a.Offline, b.Offline) || !bytes.Equal(a.Stopped, b.Stopped), false
}

// applyPending applies a pending update between connections. One that
// keeps the connection waits when a session may be resumed: that session's
// messages were started with the old settings, and it applies the update
// when they are out (reconfigure.go).
func (p *Publisher) applyPending() {
	u := p.pending.Swap(nil)
	if u == nil {
		return
	}
	c := p.changes(u)
	if !c.reconnect && p.carry != nil {
		p.pending.CompareAndSwap(nil, u) // unless a newer one came meanwhile
		return
	}
	p.logUpdate(c, u)
	if c.reconnect {
		p.applyConnection(u)
		return
	}
	p.applySettings(u)
}

// logUpdate says what an update changes.
func (p *Publisher) logUpdate(c changeList, u *update) {
	if len(c.names) == 0 {
		p.log.Debug("publisher settings unchanged")
		return
	}
	p.log.Info("publisher settings updated", "changed", c.names)
	if c.reconnect {
		p.log.Info("reconnecting: broker/identity changed", "broker", u.broker.Redacted(), "client_id", u.clientID)
	}
}

// applySettings makes u's settings the Publisher's. The packer must hold
// no builder (it may be replaced), and nothing may be in flight on a
// session that goes on (reconfigure.go).
func (p *Publisher) applySettings(u *update) {
	old, n := p.opts, u.opts
	n.Logger, n.Queue, n.AckLatency = old.Logger, old.Queue, old.AckLatency
	p.opts, p.dialect, p.qos = n, u.dialect, byte(*n.QoS)
	p.holds.retopic(p.topics)
	p.topics = u.topics
	if n.MaxMessagesPerSecond != old.MaxMessagesPerSecond {
		p.limiter = nil
		if n.MaxMessagesPerSecond > 0 {
			p.limiter = newRateLimiter(n.MaxMessagesPerSecond)
		}
	}
	p.pauses.min, p.pauses.max = n.MinBackoff, n.MaxBackoff
	p.holds.retryEvery(n.HoldRetry)
	if n.Encoding != old.Encoding {
		p.packer = nil // setLimit makes one with the new encoding
		p.setLimit(p.limits.cur)
	}
}

// applyConnection applies an update that needs a new connection, between
// connections: nothing of the old broker's session or limits carries over.
// Held topics are tried again on the new connection; the readings already
// delivered stay skipped (holdState.through).
func (p *Publisher) applyConnection(u *update) {
	p.carry = nil
	p.applySettings(u)
	p.broker, p.clientID = u.broker, u.clientID
	p.protocol, p.auto = p.opts.Protocol, p.opts.Protocol == ProtocolAuto
	if p.auto {
		p.protocol = Protocol5
	}
	p.state5, p.sessionStarted = newState5(p.opts.SessionExpiry > 0), false
	p.limits.cap, p.probe.warned = 0, false
	clear(p.holds.held)
	p.pauses.reset()
}
