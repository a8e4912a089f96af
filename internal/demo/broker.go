package demo

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is the demo's embedded MQTT broker (mochi-mqtt): plain TCP on a
// loopback address, every client and topic allowed, and a count of the
// PUBLISH packets it received for the demo's summary.
type Broker struct {
	// URL is the tcp://host:port address clients connect to.
	URL string

	srv       *mqtt.Server
	counter   *publishCounter
	closeOnce sync.Once
}

// StartBroker starts a broker listening on addr ("127.0.0.1:0" picks a free
// port; only loopback addresses are accepted, as every client is allowed).
// mochi logs its start and stop at Info; a nil logger discards.
func StartBroker(addr string, logger *slog.Logger) (*Broker, error) {
	logger = orDiscard(logger)
	if _, _, err := loopbackHostPort(addr); err != nil {
		return nil, fmt.Errorf("start MQTT broker: %w", err)
	}
	srv := mqtt.New(&mqtt.Options{Logger: logger})
	counter := &publishCounter{}
	for _, h := range []mqtt.Hook{new(allowAll), counter} {
		if err := srv.AddHook(h, nil); err != nil {
			return nil, fmt.Errorf("start MQTT broker: add hook %s: %w", h.ID(), err)
		}
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "demo", Address: addr})
	if err := srv.AddListener(tcp); err != nil { // binds the socket
		return nil, fmt.Errorf("start MQTT broker on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("start MQTT broker on %s: %w", addr, err)
	}
	return &Broker{URL: "tcp://" + tcp.Address(), srv: srv, counter: counter}, nil
}

// Received returns how many PUBLISH packets clients have sent the broker
// and the total size of their payloads in bytes. A packet a client resends
// (DUP) counts again.
func (b *Broker) Received() (messages, bytes uint64) {
	return b.counter.messages.Load(), b.counter.bytes.Load()
}

// Close disconnects every client and stops the broker. It is safe to call
// more than once.
func (b *Broker) Close() error {
	var err error
	b.closeOnce.Do(func() { err = b.srv.Close() })
	return err
}

// publishCounter counts PUBLISH packets in OnPublish, which mochi calls
// before it sends the PUBACK: a client that has its acknowledgement is
// already counted.
type publishCounter struct {
	mqtt.HookBase
	messages atomic.Uint64
	bytes    atomic.Uint64
}

// ID names the hook in mochi's logs.
func (h *publishCounter) ID() string { return "demo-publish-counter" }

// Provides reports that the hook implements OnPublish only.
func (h *publishCounter) Provides(b byte) bool { return b == mqtt.OnPublish }

// OnPublish counts the packet and passes it on unchanged.
func (h *publishCounter) OnPublish(_ *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	h.messages.Add(1)
	h.bytes.Add(uint64(len(pk.Payload)))
	return pk, nil
}

// allowAll lets every client connect and use every topic. It stands in for
// mochi's auth.AllowHook, whose package imports yaml.v3, a module this one
// does not otherwise need.
type allowAll struct{ mqtt.HookBase }

// ID names the hook in mochi's logs.
func (h *allowAll) ID() string { return "demo-allow-all" }

// Provides reports that the hook decides authentication and ACLs.
func (h *allowAll) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

// OnConnectAuthenticate allows every client.
func (h *allowAll) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

// OnACLCheck allows every topic, for reading and writing.
func (h *allowAll) OnACLCheck(*mqtt.Client, string, bool) bool { return true }
