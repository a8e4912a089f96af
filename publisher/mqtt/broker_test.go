package mqtt

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// testBroker is an embedded mochi-mqtt broker on a loopback port that can be
// stopped and started again on the same port. Its recorder sees every
// PUBLISH it receives, across restarts.
type testBroker struct {
	t    testing.TB
	addr string
	opts brokerOptions
	srv  *mochi.Server
	rec  *recorder
}

// brokerOptions configure a test broker beyond the plain anonymous default.
type brokerOptions struct {
	tls       *tls.Config  // serve TLS
	ledger    *auth.Ledger // check credentials against it
	websocket bool         // serve MQTT over WebSocket (ws://) instead of TCP
	// refuse, when set, answers each PUBLISH it returns a packets.Code for
	// with that code (an MQTT 5 PUBACK failure at QoS 1; dropped at QoS 0).
	refuse func(pk packets.Packet) error
	// caps adjusts the capabilities the CONNACK announces.
	caps func(*mochi.Capabilities)
}

func startBroker(t testing.TB) *testBroker { return startBrokerWith(t, brokerOptions{}) }

func startBrokerWith(t testing.TB, opts brokerOptions) *testBroker {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	b := &testBroker{t: t, addr: addr, opts: opts, rec: newRecorder()}
	b.start()
	t.Cleanup(b.stop)
	return b
}

// url is the broker's tcp:// (or ssl://) URL.
func (b *testBroker) url() string {
	if b.opts.websocket {
		return "ws://" + b.addr + "/mqtt"
	}
	if b.opts.tls != nil {
		return "ssl://" + b.addr
	}
	return "tcp://" + b.addr
}

func (b *testBroker) start() {
	b.t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	caps := mochi.NewDefaultServerCapabilities()
	if b.opts.caps != nil {
		b.opts.caps(caps)
	}
	srv := mochi.New(&mochi.Options{Logger: quiet, Capabilities: caps})
	var err error
	if b.opts.ledger != nil {
		err = srv.AddHook(new(auth.Hook), &auth.Options{Ledger: b.opts.ledger})
	} else {
		err = srv.AddHook(new(auth.AllowHook), nil)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	if b.opts.refuse != nil {
		if err := srv.AddHook(&refuseHook{refuse: b.opts.refuse}, nil); err != nil {
			b.t.Fatal(err)
		}
	}
	if err := srv.AddHook(b.rec, nil); err != nil {
		b.t.Fatal(err)
	}
	var l listeners.Listener = listeners.NewTCP(listeners.Config{ID: "t", Address: b.addr, TLSConfig: b.opts.tls})
	if b.opts.websocket {
		l = listeners.NewWebsocket(listeners.Config{ID: "t", Address: b.addr})
	}
	if err := srv.AddListener(l); err != nil {
		b.t.Fatalf("listen on %s: %v", b.addr, err)
	}
	if err := srv.Serve(); err != nil {
		b.t.Fatal(err)
	}
	b.srv = srv
}

// stop closes the broker and its client connections. mochi's Close can
// deadlock when a client leaves while it runs (Clients.GetByListener takes
// the read lock twice, and Delete's write lock waits between them), so the
// listener is closed without its client sweep, the clients are
// disconnected until none is connected, and only then is the server closed.
func (b *testBroker) stop() {
	srv := b.srv
	if srv == nil {
		return
	}
	b.srv = nil
	srv.Listeners.Close("t", func(string) {})
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for connected(srv) {
		for _, cl := range srv.Clients.GetAll() {
			if !cl.Closed() {
				_ = srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			b.t.Errorf("broker clients still connected 10s after stop")
			return
		}
	}
	srv.Close()
}

// connected reports whether a client is still connected. Clients that
// left an MQTT 5 session to expire stay listed, closed.
func connected(srv *mochi.Server) bool {
	for _, cl := range srv.Clients.GetAll() {
		if !cl.Closed() {
			return true
		}
	}
	return false
}

// refuseHook answers the PUBLISHes its function refuses with the code
// returned, before the recorder sees them.
type refuseHook struct {
	mochi.HookBase
	refuse func(pk packets.Packet) error
}

func (h *refuseHook) ID() string { return "refuse" }

func (h *refuseHook) Provides(b byte) bool { return b == mochi.OnPublish }

func (h *refuseHook) OnPublish(_ *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	return pk, h.refuse(pk)
}

// received is one PUBLISH as the broker saw it.
type received struct {
	topic   string
	qos     byte
	dup     bool // a resend of an MQTT 5 session
	retain  bool
	props   packets.Properties
	payload []byte
	msg     *wire.Message // decoded payload, nil if it did not decode
	err     error
}

// recorder is a mochi hook that keeps every PUBLISH the broker receives.
type recorder struct {
	mochi.HookBase
	mu       sync.Mutex
	msgs     []received
	readings int // total readings in msgs
	probes   int // delivery check probes, not kept in msgs
	changed  chan struct{}
	ignore   atomic.Bool // keep nothing (benchmarks)
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) ID() string { return "recorder" }

func (r *recorder) Provides(b byte) bool { return b == mochi.OnPublish }

func (r *recorder) OnPublish(_ *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if r.ignore.Load() {
		return pk, nil
	}
	r.add(received{topic: pk.TopicName, qos: pk.FixedHeader.Qos, dup: pk.FixedHeader.Dup, retain: pk.FixedHeader.Retain,
		props: pk.Properties, payload: append([]byte(nil), pk.Payload...)})
	return pk, nil
}

func (r *recorder) add(m received) {
	if strings.HasSuffix(m.topic, "/probe") {
		r.mu.Lock()
		r.probes++
		r.mu.Unlock()
		return
	}
	m.msg, m.err = wire.DecodeMessage(m.payload)
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.msg != nil {
		r.readings += m.msg.Count
	}
	r.msgs = append(r.msgs, m)
	close(r.changed)
	r.changed = make(chan struct{})
}

// probeCount returns how many delivery check probes were received.
func (r *recorder) probeCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.probes
}

// messages returns what was received so far.
func (r *recorder) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.msgs...)
}

// waitFor waits until cond holds for the messages received so far.
func (r *recorder) waitFor(t testing.TB, what string, timeout time.Duration, cond func(r *recorder) bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		ok, changed := cond(r), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// waitReadings waits until the broker received at least n readings.
func (r *recorder) waitReadings(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("%d readings at the broker", n), timeout, func(r *recorder) bool { return r.readings >= n })
}

// decoded returns the decoded messages, failing the test on any that did not decode.
func (r *recorder) decoded(t testing.TB) []*wire.Message {
	t.Helper()
	var out []*wire.Message
	for _, m := range r.messages() {
		if m.err != nil {
			t.Fatalf("message on %s: %v\n%s", m.topic, m.err, pubtest.Truncate(m.payload))
		}
		out = append(out, m.msg)
	}
	return out
}
