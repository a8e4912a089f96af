package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// stableAfter is how long a connection must last for the backoff to start
// again from MinBackoff, so a broker that accepts and drops at once is not
// hammered.
const stableAfter = 10 * time.Second

// disconnectQuiesce is how long a clean MQTT 3.1.1 disconnect waits for
// DISCONNECT to go out.
const disconnectQuiesce = 250 // ms

// link is one broker connection and the signal of its loss.
type link struct {
	client client
	lost   chan error // receives once when the connection is lost
	// protocol is Protocol5 or Protocol311.
	protocol string
	// caps are what the broker's CONNACK allows (MQTT 5); zero for MQTT
	// 3.1.1, which advertises nothing.
	caps caps
	// resumed is true when an MQTT 5 broker kept the session of the
	// previous connection (CONNACK Session Present).
	resumed bool
	// renewAt is when the connection's credentials must be renewed by
	// reconnecting; zero when they never expire.
	renewAt time.Time
	// subscribeTimeout bounds the wait for a SUBACK.
	subscribeTimeout time.Duration
}

// caps are the limits an MQTT 5 broker announces in its CONNACK. Zero
// maxPacket, receiveMax and aliasMax mean none announced (no limit, no
// aliases).
type caps struct {
	maxPacket  int  // Maximum Packet Size: the whole PUBLISH, not only the payload
	receiveMax int  // Receive Maximum: QoS 1 messages unacknowledged at once
	aliasMax   int  // Topic Alias Maximum
	maxQoS     byte // Maximum QoS; 2 when not announced
	retain     bool // Retain Available (only the presence messages are retained)
}

var _ Conn = (*link)(nil)

func (p *Publisher) newLink(cr Credentials, protocol string) *link {
	return &link{lost: make(chan error, 1), protocol: protocol, caps: caps{maxQoS: 2, retain: true},
		renewAt: cr.RenewAt, subscribeTimeout: max(p.opts.ConnectTimeout, time.Second)}
}

// Subscribe subscribes to filters and waits for the SUBACK.
func (l *link) Subscribe(filters map[string]byte, handle func(topic string, payload []byte)) error {
	return l.client.subscribe(filters, handle, l.subscribeTimeout)
}

// Publish sends a message, not waiting for its acknowledgement.
func (l *link) Publish(topic string, qos byte, payload []byte) {
	l.client.publish(outgoing{topic: topic, qos: qos, payload: payload})
}

// connect makes one connection attempt over the protocol in use. With
// mqtt.protocol "auto" an MQTT 5 attempt the broker refuses as if it did
// not speak MQTT 5 is made again over MQTT 3.1.1 at once; when that
// succeeds, the Publisher stays with MQTT 3.1.1 until it is restarted.
func (p *Publisher) connect(ctx context.Context) (*link, error) {
	cr, err := p.dialect.Credentials(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	if p.protocol == Protocol311 {
		return p.connect3(ctx, cr)
	}
	l, err := p.connect5(ctx, cr)
	if err == nil || !p.auto || !errors.Is(err, errRefused5) || ctx.Err() != nil {
		return l, err
	}
	l, err3 := p.connect3(ctx, cr)
	if err3 != nil {
		return nil, fmt.Errorf("%w; over MQTT 3.1.1: %w", err, err3)
	}
	p.protocol = Protocol311
	p.log.Warn("mqtt: the broker does not speak MQTT 5; publishing over MQTT 3.1.1, where only the delivery check guards against a broker that drops what it cannot take (set mqtt.protocol = \"3.1.1\" to skip the MQTT 5 attempt)",
		"broker", p.broker.Redacted(), "error", err)
	return l, nil
}

// connectLoop connects, serves the connection until it fails, and retries
// with backoff until ctx ends or a fatal error occurs.
func (p *Publisher) connectLoop(ctx context.Context) error {
	var st linkState
	var bo backoff
	for {
		p.applyPending()
		bo.min, bo.max = p.opts.MinBackoff, p.opts.MaxBackoff
		st.attempts++
		l, err := p.connect(ctx)
		if err == nil {
			err = p.publishOver(ctx, &st, &bo, l)
		}
		if ctx.Err() != nil {
			return nil
		}
		if fe := (*fatalError)(nil); errors.As(err, &fe) {
			return fe.err
		}
		if errors.Is(err, errRenew) {
			p.renewed(&st, &bo)
			continue
		}
		if errors.Is(err, errReconfigure) {
			st.attempts, st.reconfigured = 0, true
			bo.reset()
			continue
		}
		if errors.Is(err, errProbeBroke) {
			p.log.Debug("mqtt: connecting again to check a smaller size", "error", err)
			continue
		}
		p.failed(&st, err)
		if !p.sleep(ctx, bo.next()) {
			return nil
		}
	}
}

// publishOver publishes over the new connection l until it ends, and closes
// it: with the stopped presence message and for good when ctx ended or an
// update moves the bridge to another broker or identity.
func (p *Publisher) publishOver(ctx context.Context, st *linkState, bo *backoff, l *link) error {
	p.recovered(st, l)
	p.born(l)
	since := time.Now()
	err := p.serve(ctx, l)
	final := ctx.Err() != nil || errors.Is(err, errReconfigure)
	if final {
		p.goodbye(l)
	}
	l.client.disconnect(final)
	p.stats.connected.Store(false)
	if time.Since(since) >= stableAfter {
		bo.reset()
	}
	return err
}

// linkState follows the connection so that an outage is logged when it
// starts and when it ends, not at every attempt.
type linkState struct {
	everUp   bool
	down     bool
	since    time.Time // when the outage started
	attempts int       // connection attempts since it started
	renewing bool      // the last connection ended for a credentials renewal
	reason   string    // the error last logged in this outage
	// reconfigured is true from an update that changed the broker or the
	// identity until the next connection is made.
	reconfigured bool
}

// failed logs an outage when it starts, and again only when the reason
// changes (a lost connection whose reconnects are then refused), so that the
// log says why the bridge cannot connect without a line per attempt.
func (p *Publisher) failed(st *linkState, err error) {
	if st.down {
		if err.Error() != st.reason {
			st.reason = err.Error()
			p.log.Warn("mqtt still not connected; the reason changed", "broker", p.broker.Redacted(),
				"attempt", st.attempts, "error", err)
			return
		}
		p.log.Debug("mqtt connect attempt failed", "broker", p.broker.Redacted(), "attempt", st.attempts, "error", err)
		return
	}
	st.down, st.since, st.renewing, st.reason = true, time.Now(), false, err.Error()
	msg := "mqtt connection lost; reconnecting"
	if !st.everUp || st.reconfigured {
		msg = "mqtt connect failed; retrying"
	}
	p.log.Error(msg, "broker", p.broker.Redacted(), "error", err)
}

// errRenew ends a connection whose credentials are due for renewal; the
// next one is made at once with fresh ones.
var errRenew = errors.New("credentials due for renewal")

// renewed notes a renewal: not an outage, so neither logged as one nor
// counted as a reconnect, and the next attempt starts without backoff.
func (p *Publisher) renewed(st *linkState, bo *backoff) {
	p.stats.tokenRenewals.Add(1)
	p.log.Debug("mqtt: renewing the credentials by reconnecting", "broker", p.broker.Redacted())
	st.attempts = 0
	st.renewing = true
	bo.reset()
}

func (p *Publisher) recovered(st *linkState, l *link) {
	p.stats.connected.Store(true)
	p.stats.connections.Add(1)
	if b, ok := p.dialect.(*broker); ok && b.insecureTLS() {
		p.log.Warn("mqtt.insecure_skip_verify is on: the broker's certificate was not verified; anyone on the network path can read and alter the data (for tests only)",
			"broker", p.broker.Redacted())
	}
	switch {
	case st.down:
		p.log.Info("mqtt connection restored", "broker", p.broker.Redacted(),
			"outage", time.Since(st.since).Round(time.Millisecond), "attempts", st.attempts)
	case !st.everUp || st.reconfigured:
		p.log.Info("mqtt connected", "broker", p.broker.Redacted(), slog.String("client_id", p.clientID),
			"protocol", l.protocol)
	}
	if st.everUp && !st.renewing && !st.reconfigured {
		p.stats.reconnects.Add(1)
	}
	st.everUp, st.down, st.attempts, st.renewing, st.reconfigured = true, false, 0, false, false
}

// backoff is capped exponential backoff with equal jitter.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) reset() { b.cur = 0 }

func (b *backoff) next() time.Duration {
	b.cur = min(max(2*b.cur, b.min), b.max)
	half := b.cur / 2
	return half + rand.N(half+1)
}

// sleep waits d, or less when an update comes (it may name a broker that
// can be reached), or until ctx ends; it reports whether ctx is still
// alive.
func (p *Publisher) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.wake:
		return true
	case <-ctx.Done():
		return false
	}
}

// fatalError marks an error retrying cannot fix; Run returns it.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }
