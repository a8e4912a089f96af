package mqtt

import (
	"context"
	"fmt"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// client3 is an MQTT 3.1.1 connection (paho.mqtt.golang). MQTT 3.1.1 has
// no failure acknowledgements: a PUBACK means only that the broker took the
// packet, so the delivery check (probe.go) is what finds a broker that
// drops large messages.
type client3 struct {
	c paho.Client
}

var _ client = (*client3)(nil)

// publish hands m to paho, which writes messages in call order.
func (c *client3) publish(m outgoing) token {
	return token3{c.c.Publish(m.topic, m.qos, m.retain, m.payload)}
}

// token3 is paho's token; its error is the connection's.
type token3 struct{ paho.Token }

func (t token3) Err() error { return t.Error() }

func (c *client3) subscribe(filters map[string]byte, handle func(topic string, payload []byte), timeout time.Duration) error {
	tok := c.c.SubscribeMultiple(filters, func(_ paho.Client, m paho.Message) { handle(m.Topic(), m.Payload()) })
	if !tok.WaitTimeout(timeout) {
		return fmt.Errorf("no SUBACK in %v", timeout)
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

func (c *client3) unsubscribe(timeout time.Duration, topics ...string) error {
	tok := c.c.Unsubscribe(topics...)
	if !tok.WaitTimeout(timeout) {
		return fmt.Errorf("no UNSUBACK in %v", timeout)
	}
	return tok.Error()
}

func (c *client3) disconnect(bool) { c.c.Disconnect(disconnectQuiesce) }

// clientOptions3 configures paho to make exactly one connection: no
// automatic reconnects or connect retries (Run owns those) and a clean
// session, so nothing paho stored survives a connection; what was
// unacknowledged is read again from the Queue instead. OrderMatters only
// concerns received messages (the delivery check's probes).
func (p *Publisher) clientOptions3(cr Credentials, lost chan error) *paho.ClientOptions {
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
		SetConnectionLostHandler(func(_ paho.Client, err error) { signalLost(lost, err) })
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

// connect3 makes one MQTT 3.1.1 connection attempt. When ctx ends meanwhile
// it waits for the attempt (bounded by the connect timeout) so nothing is
// left running.
func (p *Publisher) connect3(ctx context.Context, cr Credentials) (*link, error) {
	l := p.newLink(cr, Protocol311)
	c := paho.NewClient(p.clientOptions3(cr, l.lost))
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		<-tok.Done()
		if tok.Error() == nil {
			c.Disconnect(0)
		}
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", p.broker.Redacted(), err)
	}
	l.client = &client3{c}
	return l, nil
}

// signalLost reports a connection's loss once; later reports are dropped.
func signalLost(lost chan error, err error) {
	select {
	case lost <- err:
	default:
	}
}
