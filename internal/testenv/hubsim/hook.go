package hubsim

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// conn is one authenticated MQTT connection.
type conn struct {
	cl      *mqtt.Client
	id      *identity
	expires time.Time   // the SAS token's expiry; zero for X.509
	timer   *time.Timer // closes the connection at expires
	done    bool        // closed by the hub or ended; guarded by Hub.mu
	// delayed are the PUBACK delays of sends the hub-wide throttle queued,
	// by packet id, until OnPublish takes them; guarded by Hub.mu.
	delayed map[uint16]time.Duration
}

// hook plugs the hub's rules into the mochi broker. It decides everything in
// OnConnect (authentication) and OnPacketRead (what a connected client may
// do), so the broker's own ACL checks just say yes.
type hook struct {
	mqtt.HookBase
	h *Hub
}

var provided = []byte{
	mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnSessionEstablish,
	mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnPacketRead, mqtt.OnPublish,
}

func (k *hook) ID() string { return "hubsim" }

func (k *hook) Provides(b byte) bool { return bytes.IndexByte(provided, b) >= 0 }

func (k *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error { return k.h.connect(cl, pk) }

func (k *hook) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

func (k *hook) OnACLCheck(*mqtt.Client, string, bool) bool { return true }

func (k *hook) OnSessionEstablish(cl *mqtt.Client, pk packets.Packet) {
	k.h.takeOver(cl, pk.Connect.Clean)
}

func (k *hook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) { k.h.online(cl) }

func (k *hook) OnDisconnect(cl *mqtt.Client, err error, _ bool) { k.h.offline(cl, err) }

func (k *hook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	return pk, k.h.packet(cl, pk)
}

func (k *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	return pk, k.h.onPublish(cl, pk)
}

// MQTT 3.1.1 CONNACK return codes.
const (
	connackProtocol    byte = 0x01
	connackBadPassword byte = 0x04
	connackNotAuth     byte = 0x05
)

// refusal is why a CONNECT is refused and the CONNACK code that says so.
type refusal struct {
	code   byte
	reason Reason
	err    error
}

// connect authenticates a CONNECT. The broker would only ever answer "bad
// username or password", so a refusal writes its own CONNACK and fails the
// connection, which the broker then closes.
func (h *Hub) connect(cl *mqtt.Client, pk packets.Packet) error {
	c, r := h.authenticate(cl, pk)
	if r != nil {
		h.recordRefusal(pk.Connect.ClientIdentifier, r.reason, r.err.Error())
		_ = cl.WritePacket(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ReasonCode: r.code})
		return packets.ErrNotAuthorized
	}
	h.mu.Lock()
	h.conns[cl] = c
	h.mu.Unlock()
	return nil
}

func (h *Hub) authenticate(cl *mqtt.Client, pk packets.Packet) (*conn, *refusal) {
	if pk.ProtocolVersion != 4 {
		return nil, &refusal{connackProtocol, ReasonProtocol, fmt.Errorf("MQTT protocol level %d, want 4 (3.1.1)", pk.ProtocolVersion)}
	}
	cid := pk.Connect.ClientIdentifier
	h.mu.Lock()
	id := h.ids[cid]
	var key []byte
	if id != nil {
		key = id.sasKey
	}
	h.mu.Unlock()
	if id == nil {
		return nil, &refusal{connackNotAuth, ReasonUnknownID, fmt.Errorf("no device or module with ClientId %q", cid)}
	}
	if err := checkUsername(string(pk.Connect.Username), h.HostName(), cid); err != nil {
		return nil, &refusal{connackBadPassword, ReasonBadUsername, err}
	}
	if len(pk.Connect.Password) == 0 {
		return h.authenticateX509(cl, id, key)
	}
	if key == nil {
		return nil, &refusal{connackNotAuth, ReasonAuthMethod, errors.New("a password for an X.509 device")}
	}
	tok, err := parseSAS(string(pk.Connect.Password))
	if err != nil {
		return nil, &refusal{connackBadPassword, ReasonBadToken, err}
	}
	if reason, err := checkSAS(tok, key, resourceURI(h.HostName(), id.key), time.Now()); err != nil {
		return nil, &refusal{connackNotAuth, reason, err}
	}
	return &conn{cl: cl, id: id, expires: time.Unix(tok.se, 0)}, nil
}

// authenticateX509 accepts an empty password when TLS verified a client
// certificate from the test CA whose CN is the device ID.
func (h *Hub) authenticateX509(cl *mqtt.Client, id *identity, key []byte) (*conn, *refusal) {
	if key != nil {
		return nil, &refusal{connackNotAuth, ReasonAuthMethod, errors.New("no password (SAS token) for a SAS identity")}
	}
	tc, ok := cl.Net.Conn.(interface{ ConnectionState() tls.ConnectionState })
	if !ok {
		return nil, &refusal{connackNotAuth, ReasonBadCert, errors.New("not a TLS connection")}
	}
	st := tc.ConnectionState()
	if len(st.VerifiedChains) == 0 {
		return nil, &refusal{connackNotAuth, ReasonBadCert, errors.New("no client certificate from the hub's CA")}
	}
	if cn := st.PeerCertificates[0].Subject.CommonName; cn != id.key.device {
		return nil, &refusal{connackNotAuth, ReasonBadCert, fmt.Errorf("certificate CN %q is not device %q", cn, id.key.device)}
	}
	return &conn{cl: cl, id: id}, nil
}

// takeOver closes the identity's live connection, if any: one connection
// per identity. The broker would send an MQTT 5 style DISCONNECT first; the
// hub just closes.
func (h *Hub) takeOver(cl *mqtt.Client, clean bool) {
	h.mu.Lock()
	c := h.conns[cl]
	var old *conn
	if c != nil {
		old = c.id.conn
		if clean {
			c.id.subs = map[string]bool{}
		}
	}
	h.mu.Unlock()
	if old != nil {
		h.closeConn(old, ReasonTakenOver, "a new connection with the same ClientId")
	}
}

// online makes c the identity's live connection once CONNACK is out (so no
// twin or method PUBLISH can overtake it) and arms the token expiry.
func (h *Hub) online(cl *mqtt.Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.conns[cl]
	if c == nil || c.done {
		return
	}
	c.id.conn = c
	if !c.expires.IsZero() {
		c.timer = time.AfterFunc(time.Until(c.expires), func() {
			h.closeConn(c, ReasonTokenExpired, "SAS token expired at "+c.expires.UTC().Format(time.RFC3339))
		})
	}
	h.changed()
}

func (h *Hub) offline(cl *mqtt.Client, err error) {
	h.mu.Lock()
	c := h.conns[cl]
	delete(h.conns, cl)
	byHub := c == nil || c.done
	if c != nil {
		c.done = true
		if c.timer != nil {
			c.timer.Stop()
		}
		if c.id.conn == c {
			c.id.conn = nil
		}
	}
	h.changed()
	h.mu.Unlock()
	if !byHub && errors.Is(err, packets.ErrPacketTooLarge) {
		h.recordClose(cl.ID, ReasonTooLarge, fmt.Sprintf("MQTT packet over %d bytes", maxPacket))
	}
}

// closeConn closes c the way the hub signals errors, recording why; only the
// first close of a connection is recorded.
func (h *Hub) closeConn(c *conn, reason Reason, detail string) {
	h.mu.Lock()
	if c.done {
		h.mu.Unlock()
		return
	}
	c.done = true
	h.closes = appendCapped(h.closes, Close{c.id.key.clientID(), reason, detail, time.Now()}, maxRecords)
	h.changed()
	h.mu.Unlock()
	c.cl.Stop(fmt.Errorf("hubsim: %s: %s", reason, detail))
}

// violation is a client's breach of the hub's rules; it closes the connection.
type violation struct {
	reason Reason
	detail string
}

func violate(reason Reason, format string, args ...any) *violation {
	return &violation{reason, fmt.Sprintf(format, args...)}
}

// packet applies the hub's rules to a packet from a connected client before
// the broker handles it (and before any PUBACK or SUBACK goes out).
func (h *Hub) packet(cl *mqtt.Client, pk packets.Packet) error {
	switch pk.FixedHeader.Type {
	case packets.Publish, packets.Subscribe, packets.Unsubscribe:
	default:
		return nil // CONNECT is read through here too, before there is a conn
	}
	h.mu.Lock()
	c := h.conns[cl]
	done := c == nil || c.done
	h.mu.Unlock()
	if done {
		return packets.ErrRejectPacket
	}
	var v *violation
	switch pk.FixedHeader.Type {
	case packets.Publish:
		v = h.publish(c, pk)
	case packets.Subscribe:
		v = h.subscribe(c, pk)
	case packets.Unsubscribe:
		h.unsubscribe(c, pk)
	}
	if v != nil {
		h.closeConn(c, v.reason, v.detail)
		return packets.ErrRejectPacket
	}
	return nil
}

// send publishes to one connection at QoS 0, as the hub does for twin
// responses, desired-property patches and method requests.
func (h *Hub) send(c *conn, topic string, payload []byte) error {
	return c.cl.WritePacket(packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish},
		TopicName:   topic,
		Payload:     payload,
	})
}
