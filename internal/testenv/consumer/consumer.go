// Package consumer is the integration tests' MQTT consumer: it records what
// a bridge publishes, per reading name, and checks it for lost, duplicate
// and reordered values of the simulator's load counters. It decodes with
// publisher/wire, the same format package any downstream tool would use; it
// lives apart from testenv so that testenv imports none of the bridge's
// packages and every package's tests can use it.
package consumer

import (
	"bytes"
	"cmp"
	"fmt"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	fb "factorybridge"
	"factorybridge/internal/testenv/pubsubjson"
	"factorybridge/publisher/wire"
)

// Consumer limits and timeouts.
const (
	// DefaultMaxSamples caps what a Consumer records (40 bytes each):
	// beyond it samples are counted in Overflow and not kept.
	DefaultMaxSamples = 4 << 20
	consumerTimeout   = 10 * time.Second
	maxConsumerErrs   = 20
)

// Sample is one reading of a load counter as it arrived at the broker.
type Sample struct {
	Value   uint64 // the counter value
	Seq     uint64 // the bridge's sequence number
	Source  int64  // source timestamp, Unix ms (0 = none)
	Server  int64  // server timestamp, Unix ms (0 = none): when the server sampled it
	Arrived int64  // arrival at the consumer, Unix ms
	// Class tells live readings from heartbeats and backfilled ones.
	Class fb.Class
}

// Options configure Start.
type Options struct {
	// Topic is the subscription filter, e.g. "fb/e2e/#". Required.
	Topic string
	// ClientID is the MQTT client id; "" = "testenv-consumer".
	ClientID string
	// Persistent makes the session persistent (clean session false) and
	// reconnects after a lost connection, so that with a broker started
	// with persistence nothing published while the consumer reconnects is
	// missed.
	Persistent bool
	// MaxSamples caps the samples kept; 0 = DefaultMaxSamples.
	MaxSamples int
}

// Consumer subscribes to a broker and records, per reading name, every
// counter value and its seq in arrival order. Readings that are not a Good
// UInt64 and messages that do not decode are recorded as errors. Safe for
// concurrent use.
type Consumer struct {
	max int
	// pubsub decodes pubsub-json messages, which need the metadata that
	// came before them; guarded by mu.
	pubsub *pubsubjson.Decoder

	mu       sync.Mutex
	nodes    map[string][]Sample
	total    int // samples kept
	overflow int // samples not kept: MaxSamples reached
	messages int
	maxSeq   uint64
	errs     []string
	nerrs    int

	events []fb.Reading // events and OEE records, in arrival order
}

// Start connects to broker, subscribes at QoS 1 and records until the test
// ends.
func Start(t testing.TB, broker string, opts Options) *Consumer {
	t.Helper()
	c := New(opts)
	subscribe := func(cl mqtt.Client) mqtt.Token {
		return cl.Subscribe(opts.Topic, 1, func(_ mqtt.Client, m mqtt.Message) { c.record(m.Payload()) })
	}
	o := mqtt.NewClientOptions().AddBroker(broker).SetClientID(cmp.Or(opts.ClientID, "testenv-consumer")).
		SetCleanSession(!opts.Persistent).SetAutoReconnect(opts.Persistent).
		SetMaxReconnectInterval(200 * time.Millisecond).SetOrderMatters(true)
	if opts.Persistent {
		// Resubscribing is harmless with a persistent session and needed
		// when the broker lost it.
		o.SetOnConnectHandler(func(cl mqtt.Client) { go subscribe(cl) })
	}
	cl := mqtt.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(consumerTimeout) || tok.Error() != nil {
		t.Fatalf("consumer connect to %s: %v", broker, tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	if tok := subscribe(cl); !tok.WaitTimeout(consumerTimeout) || tok.Error() != nil {
		t.Fatalf("consumer subscribe %s: %v", opts.Topic, tok.Error())
	}
	return c
}

// New returns a Consumer fed by Record, for messages that arrive some other
// way than a subscription (the IoT Hub stand-in's OnMessage).
func New(opts Options) *Consumer {
	return &Consumer{max: cmp.Or(opts.MaxSamples, DefaultMaxSamples), nodes: map[string][]Sample{},
		pubsub: pubsubjson.NewDecoder()}
}

// Record records one message's readings.
func (c *Consumer) Record(payload []byte) { c.record(payload) }

// record records a message in any of the bridge's encodings; a pubsub-json
// one is decoded with the metadata received before it (pubsubjson, which
// shares no code with the bridge's encoder).
func (c *Consumer) record(payload []byte) {
	arrived := time.Now().UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	readings, err := c.decode(payload)
	c.messages++
	if err != nil {
		c.fail(err.Error())
		return
	}
	for _, r := range readings {
		if !r.Class.IsNodeValue() {
			c.events = append(c.events, r)
			continue
		}
		if r.Value.Type != fb.TypeUInt64 || !r.IsGood() {
			c.fail(fmt.Sprintf("%s seq %d: value %+v status %#x", r.Name, r.Seq, r.Value, r.Status))
			continue
		}
		c.maxSeq = max(c.maxSeq, r.Seq)
		if c.total >= c.max {
			c.overflow++
			continue
		}
		c.nodes[r.Name] = append(c.nodes[r.Name], Sample{Value: r.Value.Uint(), Seq: r.Seq,
			Source: unixMilli(r.SourceTime), Server: unixMilli(r.ServerTime), Arrived: arrived, Class: r.Class})
		c.total++
	}
}

func (c *Consumer) decode(payload []byte) ([]fb.Reading, error) {
	if bytes.HasPrefix(payload, []byte(`{"MessageId":`)) {
		rs, _, err := c.pubsub.Decode(payload)
		return rs, err
	}
	msg, err := wire.DecodeMessage(payload)
	if err != nil {
		return nil, err
	}
	return msg.Readings, nil
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (c *Consumer) fail(msg string) {
	c.nerrs++
	if len(c.errs) < maxConsumerErrs {
		c.errs = append(c.errs, msg)
	}
}

// Errors returns the number of bad messages or readings and the first few.
func (c *Consumer) Errors() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nerrs, append([]string(nil), c.errs...)
}

// Count returns how many samples of name were recorded, duplicates included.
func (c *Consumer) Count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes[name])
}

// MinCount returns the fewest samples any of names has.
func (c *Consumer) MinCount(names []string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	least := -1
	for _, n := range names {
		if k := len(c.nodes[n]); least < 0 || k < least {
			least = k
		}
	}
	return max(least, 0)
}

// Last returns the last sample of name to arrive.
func (c *Consumer) Last(name string) (Sample, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.nodes[name]
	if len(s) == 0 {
		return Sample{}, false
	}
	return s[len(s)-1], true
}

// Samples returns a copy of name's samples in arrival order.
func (c *Consumer) Samples(name string) []Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Sample(nil), c.nodes[name]...)
}

// Totals returns the samples kept, those not kept beyond MaxSamples, the
// messages received and the highest seq seen.
func (c *Consumer) Totals() (kept, overflow, messages int, maxSeq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, c.overflow, c.messages, c.maxSeq
}

// Events returns the events and OEE records received, in arrival order.
func (c *Consumer) Events() []fb.Reading {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]fb.Reading(nil), c.events...)
}

// Names returns the names that have samples.
func (c *Consumer) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.nodes))
	for n := range c.nodes {
		names = append(names, n)
	}
	return names
}
