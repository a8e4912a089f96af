package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"factorybridge/publisher/wire"
)

// Topics of the programs BenchmarkPeers compares, each program's default:
// factorybridge's mqtt.DefaultTopic and the topic of Telegraf's sample
// config (telegrafTopic).
const (
	peerBridgeTopics   = "factorybridge/+/+/readings"
	peerTelegrafTopics = "telegraf/#"
)

// Keys of peerCounter's counts: which program sent a message.
const (
	countBridge   = "factorybridge"
	countTelegraf = "telegraf"
)

// peerCheckEvery is how often the counter checks its cheap count against a
// full decode: one message in peerCheckEvery of each program.
const peerCheckEvery = 8

// peerCount is what one program delivered to the counter.
type peerCount struct {
	readings uint64 // readings, by the counting rule of the program's format
	wire     uint64 // MQTT PUBLISH packets' bytes, as the subscriber receives them
	messages uint64
}

// peerCounter is the subscriber both programs of BenchmarkPeers publish to.
// It counts readings and wire bytes per program cheaply enough to keep up
// with 300,000 readings/s on a shared 2-core machine: factorybridge's
// envelope "count" and Telegraf's metric objects (telegrafReadings) are
// found without decoding, and one message in peerCheckEvery is decoded in
// full to check that count.
type peerCounter struct {
	sub *rawSubscriber // set by subscribePeers

	mu     sync.Mutex
	counts map[string]*peerCount
	last   time.Time // arrival of the newest message
	errs   []string  // the first maxPeerErrs mismatches and decode errors
}

const maxPeerErrs = 10

func newPeerCounter() *peerCounter {
	return &peerCounter{counts: map[string]*peerCount{
		countBridge: {}, countTelegraf: {},
	}}
}

func (c *peerCounter) handle(topic, p []byte, _ byte, size int) {
	key, n := countBridge, envelopeField(p, `"count":`)
	if bytes.HasPrefix(topic, []byte("telegraf/")) {
		key, n = countTelegraf, telegrafReadings(p)
	}
	c.mu.Lock()
	pc := c.counts[key]
	pc.messages++
	pc.readings += n
	pc.wire += uint64(size)
	c.last = time.Now()
	check := pc.messages%peerCheckEvery == 0
	c.mu.Unlock()
	if check {
		c.check(key, p, n)
	}
}

// check decodes p in full and records an error when its readings are not
// the n the cheap count found.
func (c *peerCounter) check(key string, p []byte, n uint64) {
	var want int
	var err error
	if key == countTelegraf {
		want, err = telegrafReadingsDecoded(p)
	} else {
		var msg *wire.Message
		if msg, err = wire.DecodeMessage(p); err == nil {
			want = len(msg.Readings)
		}
	}
	if err == nil && uint64(want) == n {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) < maxPeerErrs {
		c.errs = append(c.errs, fmt.Sprintf("%s: counted %d readings, decoded %d (%v) in %.200q", key, n, want, err, p))
	}
}

// snapshot returns what key's program delivered so far.
func (c *peerCounter) snapshot(key string) peerCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	return *c.counts[key]
}

// quiet reports whether nothing arrived for d.
func (c *peerCounter) quiet(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Since(c.last) >= d
}

// errors returns the mismatches and decode errors seen so far.
func (c *peerCounter) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// subscribePeers connects c to the broker at url, subscribed to both
// programs' topics at QoS 1, so that each message arrives with the QoS its
// publisher chose, up to 1.
func subscribePeers(tb testing.TB, url string, c *peerCounter) *rawSubscriber {
	tb.Helper()
	c.sub = dialRawSubscriber(tb, url, "peer-counter", []string{peerBridgeTopics, peerTelegrafTopics}, c.handle)
	return c.sub
}

// lost fails the benchmark when the counter's connection ended: what it
// counts from then on would be wrong.
func (c *peerCounter) lost(tb testing.TB) {
	tb.Helper()
	if err := c.sub.Err(); err != nil {
		tb.Fatalf("counter lost its broker connection: %v", err)
	}
}

// telegrafMetricKey opens the fields object of a metric in the JSON of
// Telegraf's json serializer.
var telegrafMetricKey = []byte(`"fields":{`)

// telegrafReadings counts the readings in one MQTT message of Telegraf's
// json serializer: one per metric, whether the message holds one metric
// (layout "non-batch", Telegraf's default) or a batch ({"metrics":[…]}).
// inputs.opcua_listener makes one metric of every data change notification:
// the node's value under its field name and the status as "Quality". That
// is what factorybridge calls a reading, so a metric counts once whatever
// its fields (an array value, unpacked into fields "n[0]", "n[1]"…, is one
// reading in factorybridge too).
//
// Every metric has exactly one key "fields" whose value is an object, and
// no other key can be followed by ":{" — tags and field values are scalars,
// and a quote inside a string is escaped, so `"fields":{` cannot occur
// inside one. Counting that byte sequence is therefore exact, and costs a
// small fraction of a JSON decode; FuzzTelegrafReadings checks it against
// telegrafReadingsDecoded.
func telegrafReadings(p []byte) uint64 {
	return uint64(bytes.Count(p, telegrafMetricKey))
}

// telegrafMetric is the part of a Telegraf JSON metric the counter reads.
type telegrafMetric struct {
	Fields map[string]json.RawMessage `json:"fields"`
}

// telegrafReadingsDecoded is telegrafReadings by a full JSON decode: the
// reference the counter checks its count against. A message that is not a
// metric or a batch of metrics is an error.
func telegrafReadingsDecoded(p []byte) (int, error) {
	var msg struct {
		telegrafMetric
		Metrics []telegrafMetric `json:"metrics"`
	}
	if err := json.Unmarshal(p, &msg); err != nil {
		return 0, fmt.Errorf("decode Telegraf message: %w", err)
	}
	n := 0
	for _, m := range append(msg.Metrics, msg.telegrafMetric) {
		if m.Fields != nil {
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("decode Telegraf message: no metric in %.100q", p)
	}
	return n, nil
}
