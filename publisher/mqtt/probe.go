package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"factorybridge/publisher/wire"
)

// Prober is implemented by a Dialect whose broker lets the bridge check
// delivery: publish to a topic of its own and subscribe to it on the same
// connection. The plain broker does; IoT Hub does not (a device cannot
// subscribe to its telemetry), and its documented limits apply instead.
type Prober interface {
	// ProbeTopic is the topic of the delivery check's probes.
	ProbeTopic() string
}

// The delivery check. An MQTT 3.1.1 broker (and some MQTT 5 brokers) may
// acknowledge a message it then drops, for its size (mosquitto's
// message_size_limit) or else, and the bridge would delete readings nobody
// received. So before a connection publishes readings, and unless an
// MQTT 5 broker announced its Maximum Packet Size, the bridge subscribes to
// its probe topic and publishes probes of the largest size it would send,
// and of half, a quarter… down to wire.MinMessageBytes, in that order. A
// broker forwards one client's messages on one topic in order, so once the
// smallest probe is back every probe that will come back has: the largest
// one back is the size the connection uses. One round trip per connection.
// Probes go at QoS 0, both ways: what proves delivery is their return, and
// they take no place in the in-flight window (nor in an MQTT 5 broker's
// Receive Maximum) that readings then have to themselves.
//
// A probe is a JSON object of exactly its size:
// {"v":1,"type":"probe","bridge":…,"nonce":…,"size":…,"pad":"xxx…"}.

// errProbeBroke ends a connection that broke during the delivery check
// with a size it had not checked before: the next attempt, with half the
// size, follows at once and without an ERROR (the WARN said it).
var errProbeBroke = errors.New("the connection broke during the delivery check")

// probeState is what the delivery check remembers across connections.
type probeState struct {
	warned bool // an inconclusive check was logged
}

// probing reports whether l needs the delivery check.
func (p *Publisher) probing(l *link) (string, bool) {
	pr, ok := p.dialect.(Prober)
	if !ok || l.protocol == Protocol5 && l.caps.maxPacket > 0 {
		return "", false
	}
	return pr.ProbeTopic(), true
}

// deliveryCheck returns the largest message size up to ceiling that the
// broker delivers, or ceiling when the check cannot tell (WARN, once). A
// connection lost meanwhile is an error, and halves the ceiling of later
// connections: a broker may disconnect a client whose packet is too large.
func (p *Publisher) deliveryCheck(ctx context.Context, l *link, topic string, ceiling int) (int, error) {
	sizes := probeSizes(ceiling)
	nonce := newNonce()
	got := make(chan int, len(sizes))
	handle := func(_ string, payload []byte) {
		if n, ok := parseProbe(payload, nonce); ok {
			select { // never blocks the client: a repeat beyond the buffer is not needed
			case got <- n:
			default:
			}
		}
	}
	if err := l.client.subscribe(map[string]byte{topic: 0}, handle, l.subscribeTimeout); err != nil {
		if errors.Is(err, ErrSubscriptionRefused) {
			p.inconclusive(topic, "the broker refuses the subscription to the probe topic", err)
			return ceiling, nil
		}
		return 0, fmt.Errorf("delivery check: subscribe to %s: %w", topic, err)
	}
	defer func() { _ = l.client.unsubscribe(l.subscribeTimeout, topic) }()
	for _, n := range sizes {
		l.client.publish(outgoing{topic: topic, qos: 0, payload: p.probePayload(nonce, n)})
	}
	best, err := p.awaitProbes(ctx, l, got, sizes[len(sizes)-1])
	if err != nil {
		if sizes[0] > wire.MinMessageBytes && ctx.Err() == nil {
			p.limits.cap = max(sizes[0]/2, wire.MinMessageBytes)
			p.noteLimit(p.limits.cap, fmt.Sprintf("the connection broke while the delivery check sent a %d-byte probe, as brokers do with packets over their limit; the next connection checks this size", sizes[0]), slog.LevelWarn)
			err = fmt.Errorf("%w: %w", errProbeBroke, err)
		}
		return 0, fmt.Errorf("delivery check with probes up to %d bytes: %w", sizes[0], err)
	}
	return p.checked(topic, ceiling, best), nil
}

// probeSettle is how long the check keeps listening once the smallest
// probe came back: the larger ones were sent before it, but the client may
// hand messages to their handler out of order (at 3.1.1 under load the
// 1024-byte probe was seen first and a 2048-byte limit reported as 1024).
const probeSettle = 100 * time.Millisecond

// awaitProbes waits for the smallest probe, at most the connect timeout,
// and returns the largest that came back (0: none).
func (p *Publisher) awaitProbes(ctx context.Context, l *link, got <-chan int, smallest int) (int, error) {
	t := time.NewTimer(max(p.opts.ConnectTimeout, time.Second))
	defer t.Stop()
	best, settling := 0, false
	for {
		select {
		case n := <-got:
			best = max(best, n)
			if n == smallest && !settling {
				settling = true
				t.Reset(probeSettle)
			}
		case <-t.C:
			return best, nil
		case err := <-l.lost:
			return 0, fmt.Errorf("connection lost: %w", err)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// checked logs what the check found and returns the size to use.
func (p *Publisher) checked(topic string, ceiling, best int) int {
	switch {
	case best == 0:
		p.inconclusive(topic, "no probe came back", nil)
		return ceiling
	case best < ceiling:
		p.noteLimit(best, fmt.Sprintf("the delivery check found that the broker does not deliver a %d-byte message on %s; set the key to at most this size",
			min(2*best, ceiling), topic), slog.LevelWarn)
	default:
		p.log.Debug("mqtt: delivery check passed", "topic", topic, "size", ceiling)
	}
	return best
}

// inconclusive logs, once, that the delivery check could not tell.
func (p *Publisher) inconclusive(topic, why string, err error) {
	if p.probe.warned {
		return
	}
	p.probe.warned = true
	args := []any{"topic", topic, "key", "mqtt.probe_topic"}
	if err != nil {
		args = append(args, "error", err)
	}
	p.log.Warn("mqtt: delivery check inconclusive: "+why+"; message sizes are not verified (let the bridge publish and subscribe to its probe topic)", args...)
}

// probeSizes are the sizes of the probes: ceiling, then halves down to
// wire.MinMessageBytes.
func probeSizes(ceiling int) []int {
	sizes := []int{ceiling}
	for n := ceiling / 2; n >= wire.MinMessageBytes; n /= 2 {
		sizes = append(sizes, n)
	}
	return sizes
}

func newNonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// probePayload is a probe of n bytes (more when n cannot hold its fields).
func (p *Publisher) probePayload(nonce string, n int) []byte {
	b := fmt.Appendf(nil, `{"v":1,"type":"probe","bridge":%q,"nonce":%q,"size":%d,"pad":"`, p.opts.BridgeID, nonce, n)
	for len(b)+2 < n {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

// parseProbe returns the size of a probe of this check.
func parseProbe(payload []byte, nonce string) (int, bool) {
	s := string(payload)
	i := strings.Index(s, `"nonce":"`+nonce+`","size":`)
	if i < 0 {
		return 0, false
	}
	rest := s[i+len(`"nonce":"`+nonce+`","size":`):]
	j := strings.IndexByte(rest, ',')
	if j < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(rest[:j])
	return n, err == nil
}
