package hubsim

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// WebSocketPath is the only path the hub serves MQTT over WebSockets on.
const WebSocketPath = "/$iothub/websocket"

// wsListener serves MQTT over secure WebSockets. mochi's own listener
// accepts any path, ignores the subprotocol and reports its configured
// address rather than the bound one, so a random port could not be learnt.
type wsListener struct {
	id, address string
	tlsConfig   *tls.Config
	ln          net.Listener
	srv         *http.Server
	establish   listeners.EstablishFn
	log         *slog.Logger
	upgrader    websocket.Upgrader
}

var _ listeners.Listener = (*wsListener)(nil)

func newWSListener(id, address string, cfg *tls.Config) *wsListener {
	return &wsListener{
		id: id, address: address, tlsConfig: cfg,
		upgrader: websocket.Upgrader{
			Subprotocols: []string{"mqtt"},
			CheckOrigin:  func(*http.Request) bool { return true },
		},
	}
}

func (l *wsListener) ID() string       { return l.id }
func (l *wsListener) Protocol() string { return "wss" }

// Address is the bound address once Init has run.
func (l *wsListener) Address() string {
	if l.ln != nil {
		return l.ln.Addr().String()
	}
	return l.address
}

func (l *wsListener) Init(log *slog.Logger) error {
	l.log = log
	raw, err := net.Listen("tcp", l.address)
	if err != nil {
		return err
	}
	l.ln = tls.NewListener(raw, l.tlsConfig)
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.handle),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return nil
}

func (l *wsListener) Serve(establish listeners.EstablishFn) {
	l.establish = establish
	_ = l.srv.Serve(l.ln)
}

// Close stops accepting and then has the broker close the clients (their
// hijacked connections are not the HTTP server's any more).
func (l *wsListener) Close(closeClients listeners.CloseFn) {
	_ = l.srv.Close()
	closeClients(l.id)
}

func (l *wsListener) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != WebSocketPath {
		http.Error(w, "no MQTT on this path; use "+WebSocketPath, http.StatusNotFound)
		return
	}
	if !slices.Contains(websocket.Subprotocols(r), "mqtt") {
		http.Error(w, `the WebSocket subprotocol must be "mqtt"`, http.StatusBadRequest)
		return
	}
	ws, err := l.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	if err := l.establish(l.id, &wsConn{Conn: ws.NetConn(), ws: ws}); err != nil {
		l.log.Debug("websocket client ended", "error", err)
	}
}

// errNotBinary: MQTT over WebSockets travels in binary messages only.
var errNotBinary = errors.New("websocket message is not binary")

// wsConn reads and writes MQTT bytes as WebSocket binary messages; deadlines
// and addresses are the underlying TLS connection's.
type wsConn struct {
	net.Conn
	ws *websocket.Conn
	r  io.Reader
}

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, errNotBinary
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ConnectionState exposes the TLS state for X.509 authentication.
func (c *wsConn) ConnectionState() tls.ConnectionState {
	if tc, ok := c.Conn.(*tls.Conn); ok {
		return tc.ConnectionState()
	}
	return tls.ConnectionState{}
}
