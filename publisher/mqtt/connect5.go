package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// errRefused5 marks a failed MQTT 5 connection attempt that looks like a
// broker without MQTT 5: it answered with reason code 0x84 (unsupported
// protocol version), with an MQTT 3.1.1 CONNACK, or closed the connection
// without a CONNACK. With mqtt.protocol "auto" the attempt is then made
// again over MQTT 3.1.1.
var errRefused5 = errors.New("the broker refused MQTT 5")

// connect5 makes one MQTT 5 connection attempt, bounded by the connect
// timeout and ctx.
func (p *Publisher) connect5(ctx context.Context, cr Credentials) (*link, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.ConnectTimeout)
	defer cancel()
	raw, err := dial(ctx, p.broker, cr.TLS)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", p.broker.Redacted(), err)
	}
	nc := &conn5{Conn: raw, writeTimeout: max(p.opts.ConnectTimeout, time.Second)}
	l := p.newLink(cr, Protocol5)
	c := &client5{st: p.state5, aliases: map[string]uint16{}}
	c.c = paho.NewClient(paho.ClientConfig{
		ClientID: p.clientID, Conn: nc, Session: p.state5, PacketTimeout: p.opts.AckTimeout,
		OnPublishReceived:  []func(paho.PublishReceived) (bool, error){c.received},
		OnServerDisconnect: func(d *paho.Disconnect) { signalLost(l.lost, disconnectErr(d)) },
		OnClientError:      func(err error) { signalLost(l.lost, err) },
	})
	ca, err := c.c.Connect(ctx, p.connectPacket(cr))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", p.broker.Redacted(), connectErr5(ca, err, nc))
	}
	p.sessionStarted = true
	l.caps, l.resumed = capsOf(ca), ca.SessionPresent
	c.aliasMax = uint16(l.caps.aliasMax)
	var end context.CancelFunc
	c.ctx, end = context.WithCancel(context.Background())
	go func() { // ends with the connection, which disconnect or a failure closes
		<-c.c.Done()
		end()
	}()
	l.client = c
	return l, nil
}

// connectPacket is the CONNECT of an MQTT 5 attempt. The first connection
// of a Publisher starts a clean session; later ones resume it, so that
// messages in flight when a connection broke are resent (paho does that)
// rather than read again, where the broker kept the session.
func (p *Publisher) connectPacket(cr Credentials) *paho.Connect {
	expiry := uint32(p.opts.SessionExpiry / time.Second)
	cp := &paho.Connect{
		ClientID: p.clientID, KeepAlive: uint16(min(p.opts.KeepAlive/time.Second, 65535)),
		CleanStart: !p.sessionStarted,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry, RequestProblemInfo: true},
	}
	if cr.Username != "" {
		cp.Username, cp.UsernameFlag = cr.Username, true
		cp.Password, cp.PasswordFlag = []byte(cr.Password), true
	}
	if pr := p.opts.Presence; pr != nil {
		cp.WillMessage = &paho.WillMessage{Retain: true, QoS: 1, Topic: pr.Topic, Payload: pr.Offline}
	}
	return cp
}

// connectErr5 explains a failed MQTT 5 CONNECT, marking with errRefused5
// the failures of a broker that does not speak MQTT 5.
func connectErr5(ca *paho.Connack, err error, nc *conn5) error {
	if ca != nil && ca.ReasonCode >= 0x80 {
		re := &ReasonError{Packet: "CONNACK", Code: ca.ReasonCode}
		if ca.Properties != nil {
			re.Reason = ca.Properties.ReasonString
		}
		if ca.ReasonCode == rcUnsupportedProtocol {
			return fmt.Errorf("%w: %w", errRefused5, re)
		}
		return re
	}
	head := nc.head()
	switch {
	case len(head) == 4 && head[0] == 0x20 && head[1] == 2:
		return fmt.Errorf("%w: it answered with an MQTT 3.1.1 CONNACK, return code %d", errRefused5, head[3])
	case len(head) == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)):
		return fmt.Errorf("%w: it closed the connection without a CONNACK (%w)", errRefused5, err)
	}
	return err
}

// disconnectErr is the error of a DISCONNECT the broker sent.
func disconnectErr(d *paho.Disconnect) error {
	re := &ReasonError{Packet: "DISCONNECT", Code: d.ReasonCode}
	if d.Properties != nil {
		re.Reason = d.Properties.ReasonString
	}
	if d.ReasonCode < 0x80 {
		return fmt.Errorf("the broker disconnected: %s", reasonName(d.ReasonCode))
	}
	return fmt.Errorf("the broker disconnected: %w", re)
}

// capsOf reads what a CONNACK allows.
func capsOf(ca *paho.Connack) caps {
	c := caps{maxQoS: 2, retain: true}
	pr := ca.Properties
	if pr == nil {
		return c
	}
	if pr.MaximumPacketSize != nil {
		c.maxPacket = int(*pr.MaximumPacketSize)
	}
	if pr.ReceiveMaximum != nil {
		c.receiveMax = int(*pr.ReceiveMaximum)
	}
	if pr.TopicAliasMaximum != nil {
		c.aliasMax = int(*pr.TopicAliasMaximum)
	}
	if pr.MaximumQoS != nil {
		c.maxQoS = *pr.MaximumQoS
	}
	c.retain = pr.RetainAvailable
	return c
}

// dial opens the network connection to u: TCP, TLS, or a WebSocket.
func dial(ctx context.Context, u *url.URL, tc *tls.Config) (net.Conn, error) {
	switch u.Scheme {
	case "ssl", "tls":
		d := tls.Dialer{Config: tc}
		return d.DialContext(ctx, "tcp", u.Host)
	case "ws", "wss":
		return dialWebSocket(ctx, u, tc)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", u.Host)
}

// conn5 is the network connection of an MQTT 5 client. Every write must
// complete within writeTimeout, or the connection fails (a broker that
// stops reading must not block the session forever). It is a sync.Locker,
// which paho takes to write a packet whole. It keeps the first bytes read
// to recognize an MQTT 3.1.1 broker's CONNACK.
type conn5 struct {
	net.Conn
	sync.Mutex
	writeTimeout time.Duration

	headMu sync.Mutex
	first  []byte
}

func (c *conn5) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *conn5) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.headMu.Lock()
	if k := min(4-len(c.first), n); k > 0 {
		c.first = append(c.first, b[:k]...)
	}
	c.headMu.Unlock()
	return n, err
}

// head returns up to the first four bytes read.
func (c *conn5) head() []byte {
	c.headMu.Lock()
	defer c.headMu.Unlock()
	return append([]byte(nil), c.first...)
}
