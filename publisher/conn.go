package publisher

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"factorybridge/config"
)

// stableAfter is how long a connection must last for the backoff to start
// again from MinBackoff, so a broker that accepts and drops at once is not
// hammered.
const stableAfter = 10 * time.Second

// disconnectQuiesce is how long a clean disconnect waits for DISCONNECT to go out.
const disconnectQuiesce = 250 // ms

// tlsSchemes are the broker URL schemes that use TLS.
var tlsSchemes = map[string]bool{"ssl": true, "tls": true, "wss": true}

// parseBroker checks the broker URL and that TLS files come in usable sets.
func parseBroker(cfg config.MQTT) (*url.URL, error) {
	u, err := url.Parse(cfg.Broker)
	if err != nil {
		return nil, fmt.Errorf("mqtt.broker: %w", err)
	}
	switch u.Scheme {
	case "tcp", "ssl", "tls", "ws", "wss":
	default:
		return nil, fmt.Errorf("mqtt.broker = %q: scheme must be tcp, ssl, tls, ws or wss", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("mqtt.broker = %q: no host", u.Redacted())
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("mqtt: cert_file and key_file must be set together")
	}
	if !tlsSchemes[u.Scheme] && (cfg.CAFile != "" || cfg.CertFile != "") {
		return nil, fmt.Errorf("mqtt: ca_file/cert_file set but broker scheme %q does not use TLS", u.Scheme)
	}
	return u, nil
}

// tlsConfig reads the TLS files; nil for plain brokers. Without ca_file the
// system roots verify the broker.
func (p *Publisher) tlsConfig() (*tls.Config, error) {
	if !tlsSchemes[p.broker.Scheme] {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: p.cfg.InsecureSkipVerify}
	if p.cfg.CAFile != "" {
		c.RootCAs = x509.NewCertPool()
		if err := appendPEMFile(c.RootCAs, p.cfg.CAFile, "mqtt.ca_file"); err != nil {
			return nil, err
		}
	}
	if p.cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(p.cfg.CertFile, p.cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load mqtt client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// appendPEMFile adds the PEM certificates of the file at path (the setting
// named in errors) to pool.
func appendPEMFile(pool *x509.CertPool, path, setting string) error {
	pem, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", setting, err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("read %s %s: no PEM certificates", setting, path)
	}
	return nil
}

// link is one broker connection and the signal of its loss.
type link struct {
	client mqtt.Client
	lost   chan error // receives once when paho reports the connection lost
	// renewAt is when the connection's SAS token must be renewed by
	// reconnecting; zero when it never expires.
	renewAt time.Time
}

// credentials are what one connection attempt authenticates with.
type credentials struct {
	tls                *tls.Config
	username, password string
	renewAt            time.Time
}

// credentials returns the configured ones for a plain broker; for IoT Hub
// a fresh token (the hub cannot re-authenticate a connection, so each
// connection gets one) and, for IoT Edge, the current trust bundle.
func (p *Publisher) credentials(ctx context.Context, tlsCfg *tls.Config) (credentials, error) {
	if p.hub == nil {
		return credentials{tls: tlsCfg, username: p.cfg.Username, password: p.cfg.Password.Value()}, nil
	}
	c := credentials{username: p.hub.Identity.Username()}
	var err error
	if c.tls, err = p.hub.tlsConfig(ctx); err != nil {
		return c, err
	}
	c.password, c.renewAt, err = p.hub.password(ctx, time.Now())
	return c, err
}

// clientOptions configures paho to make exactly one connection: no automatic
// reconnects or connect retries (Run owns those) and a clean session, so
// nothing paho stored survives a connection; what was unacknowledged is read
// again from the Queue instead. OrderMatters only concerns received messages,
// of which a publisher has none.
func (p *Publisher) clientOptions(cr credentials, lost chan error) *mqtt.ClientOptions {
	o := mqtt.NewClientOptions().
		AddBroker(p.broker.String()).
		SetClientID(p.clientID).
		SetProtocolVersion(4). // 3.1.1 only: paho would retry a refused CONNECT as 3.1
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(false).
		SetKeepAlive(p.cfg.KeepAlive.D()).
		SetConnectTimeout(p.cfg.ConnectTimeout.D()).
		SetWriteTimeout(max(p.cfg.ConnectTimeout.D(), time.Second)).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case lost <- err:
			default:
			}
		})
	if cr.tls != nil {
		o.SetTLSConfig(cr.tls)
	}
	if cr.username != "" {
		o.SetUsername(cr.username)
		o.SetPassword(cr.password)
	}
	return o
}

// connect makes one connection attempt. When ctx ends meanwhile it waits for
// the attempt (bounded by the connect timeout) so nothing is left running.
func (p *Publisher) connect(ctx context.Context, tlsCfg *tls.Config) (*link, error) {
	cr, err := p.credentials(ctx, tlsCfg)
	if err != nil {
		return nil, err
	}
	l := &link{lost: make(chan error, 1), renewAt: cr.renewAt}
	l.client = mqtt.NewClient(p.clientOptions(cr, l.lost))
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
func (p *Publisher) connectLoop(ctx context.Context, tlsCfg *tls.Config) error {
	var st linkState
	bo := backoff{min: p.opts.MinBackoff, max: p.opts.MaxBackoff}
	for {
		st.attempts++
		l, err := p.connect(ctx, tlsCfg)
		if err == nil {
			p.recovered(&st)
			since := time.Now()
			err = p.serve(ctx, l)
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
	renewing bool      // the last connection ended for a token renewal
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

// errRenew ends a connection whose token is due for renewal; the next one
// is made at once with a fresh token.
var errRenew = errors.New("token due for renewal")

// renewed notes a renewal: not an outage, so neither logged as one nor
// counted as a reconnect, and the next attempt starts without backoff.
func (p *Publisher) renewed(st *linkState, bo *backoff) {
	p.stats.tokenRenewals.Add(1)
	p.log.Debug("iothub: renewing the SAS token by reconnecting", "broker", p.broker.Redacted())
	st.attempts = 0
	st.renewing = true
	bo.reset()
}

func (p *Publisher) recovered(st *linkState) {
	p.stats.connected.Store(true)
	if p.cfg.InsecureSkipVerify && tlsSchemes[p.broker.Scheme] {
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
