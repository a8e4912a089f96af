package mqtt

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// dialWebSocket opens an MQTT over WebSocket connection (subprotocol
// "mqtt", binary frames) for the MQTT 5 client, which needs a net.Conn.
// paho.mqtt.golang dials its own for MQTT 3.1.1.
func dialWebSocket(ctx context.Context, u *url.URL, tc *tls.Config) (net.Conn, error) {
	d := *websocket.DefaultDialer
	d.TLSClientConfig = tc
	d.Subprotocols = []string{"mqtt"}
	ws, _, err := d.DialContext(ctx, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	return &wsConn{Conn: ws}, nil
}

// wsConn is a WebSocket as a byte stream: each Write is one binary message,
// Read runs through the messages received.
type wsConn struct {
	*websocket.Conn
	r   io.Reader // the message being read; nil between messages
	rmu sync.Mutex
}

var _ net.Conn = (*wsConn)(nil)

func (c *wsConn) Write(b []byte) (int, error) {
	if err := c.WriteMessage(websocket.BinaryMessage, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *wsConn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.r == nil {
			_, r, err := c.NextReader()
			if err != nil {
				return 0, err
			}
			c.r = r
		}
		n, err := c.r.Read(b)
		if err == io.EOF {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

// SetDeadline sets both deadlines; a WebSocket whose deadline passed is broken.
func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}
