package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// stableAfter is how long a connection must last for the backoff to start
// again from MinBackoff, so a broker that accepts and drops at once is not
// hammered.
const stableAfter = 10 * time.Second

// disconnectQuiesce is how long a clean disconnect waits for DISCONNECT to go out.
const disconnectQuiesce = 250 // ms

// link is one broker connection and the signal of its loss.
type link struct {
	client paho.Client
	lost   chan error // receives once when paho reports the connection lost
	// renewAt is when the connection's credentials must be renewed by
	// reconnecting; zero when they never expire.
	renewAt time.Time
	// subscribeTimeout bounds the wait for a SUBACK.
	subscribeTimeout time.Duration
}

var _ Conn = (*link)(nil)

// Subscribe subscribes to filters and waits for the SUBACK.
func (l *link) Subscribe(filters map[string]byte, handle func(topic string, payload []byte)) error {
	tok := l.client.SubscribeMultiple(filters, func(_ paho.Client, m paho.Message) { handle(m.Topic(), m.Payload()) })
	if !tok.WaitTimeout(l.subscribeTimeout) {
		return fmt.Errorf("no SUBACK in %v", l.subscribeTimeout)
	}
	if err := tok.Error(); err != nil {
		return err
	}
	for topic, code := range tok.(*paho.SubscribeToken).Result() {
		if code == 0x80 {
			return fmt.Errorf("subscribe to %s: %w", topic, ErrSubscriptionRefused)
		}
	}
	return nil
}

// Publish sends a message, not waiting for its acknowledgement.
func (l *link) Publish(topic string, qos byte, payload []byte) {
	l.client.Publish(topic, qos, false, payload)
}

// clientOptions configures paho to make exactly one connection: no automatic
// reconnects or connect retries (Run owns those) and a clean session, so
// nothing paho stored survives a connection; what was unacknowledged is read
// again from the Queue instead. OrderMatters only concerns received messages,
// of which a publisher has none.
func (p *Publisher) clientOptions(cr Credentials, lost chan error) *paho.ClientOptions {
	o := paho.NewClientOptions().
		AddBroker(p.broker.String()).
		SetClientID(p.clientID).
		SetProtocolVersion(4). // 3.1.1 only: paho would retry a refused CONNECT as 3.1
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(false).
		SetKeepAlive(p.opts.KeepAlive).
		SetConnectTimeout(p.opts.ConnectTimeout).
		SetWriteTimeout(max(p.opts.ConnectTimeout, time.Second)).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			select {
			case lost <- err:
			default:
			}
		})
	if cr.TLS != nil {
		o.SetTLSConfig(cr.TLS)
	}
	if cr.Username != "" {
		o.SetUsername(cr.Username)
		o.SetPassword(cr.Password)
	}
	if pr := p.opts.Presence; pr != nil {
		o.SetBinaryWill(pr.Topic, pr.Offline, 1, true)
	}
	return o
}

// connect makes one connection attempt. When ctx ends meanwhile it waits for
// the attempt (bounded by the connect timeout) so nothing is left running.
func (p *Publisher) connect(ctx context.Context) (*link, error) {
	cr, err := p.dialect.Credentials(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	l := &link{lost: make(chan error, 1), renewAt: cr.RenewAt, subscribeTimeout: max(p.opts.ConnectTimeout, time.Second)}
	l.client = paho.NewClient(p.clientOptions(cr, l.lost))
	tok := l.client.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		<-tok.Done()
		if tok.Error() == nil {
			l.client.Disconnect(0)
		}
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", p.broker.Redacted(), err)
	}
	return l, nil
}

// connectLoop connects, serves the connection until it fails, and retries
// with backoff until ctx ends or a fatal error occurs.
func (p *Publisher) connectLoop(ctx context.Context) error {
	var st linkState
	bo := backoff{min: p.opts.MinBackoff, max: p.opts.MaxBackoff}
	for {
		st.attempts++
		l, err := p.connect(ctx)
		if err == nil {
			p.recovered(&st)
			p.born(l)
			since := time.Now()
			err = p.serve(ctx, l)
			if ctx.Err() != nil {
				p.goodbye(l)
			}
			l.client.Disconnect(disconnectQuiesce)
			p.stats.connected.Store(false)
			if time.Since(since) >= stableAfter {
				bo.reset()
			}
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
		p.failed(&st, err)
		if !sleep(ctx, bo.next()) {
			return nil
		}
	}
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
	if !st.everUp {
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

func (p *Publisher) recovered(st *linkState) {
	p.stats.connected.Store(true)
	if b, ok := p.dialect.(*broker); ok && b.insecureTLS() {
		p.log.Warn("mqtt.insecure_skip_verify is on: the broker's certificate was not verified; anyone on the network path can read and alter the data (for tests only)",
			"broker", p.broker.Redacted())
	}
	switch {
	case st.down:
		p.log.Info("mqtt connection restored", "broker", p.broker.Redacted(),
			"outage", time.Since(st.since).Round(time.Millisecond), "attempts", st.attempts)
	case !st.everUp:
		p.log.Info("mqtt connected", "broker", p.broker.Redacted(), slog.String("client_id", p.clientID))
	}
	if st.everUp && !st.renewing {
		p.stats.reconnects.Add(1)
	}
	st.everUp, st.down, st.attempts, st.renewing = true, false, 0, false
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

// sleep waits d or until ctx ends; it reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fatalError marks an error retrying cannot fix; Run returns it.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }
