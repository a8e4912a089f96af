package main

import (
	"bytes"
	"slices"
	"strconv"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"factorybridge/publisher/wire"
)

// benchConsumer counts what arrives at the broker cheaply enough to keep up
// with hundreds of thousands of readings per second on a shared 2-core box:
// it reads only the envelope of each message, and fully decodes one message
// in decodeEvery to sample end-to-end latency.
type benchConsumer struct {
	mu        sync.Mutex
	readings  uint64 // readings received, resends included (the fault tests count those)
	wire      uint64 // MQTT PUBLISH packet bytes
	messages  uint64
	latencies []time.Duration // sampled; reset per phase
	newest    time.Time       // newest source time seen in sampled messages
	overflow  uint64          // sampled readings with the Overflow info bit (server dropped values)
	errs      []string
}

const (
	decodeEvery  = 8
	maxLatencies = 1 << 20
)

func (c *benchConsumer) handle(_ mqtt.Client, m mqtt.Message) {
	at := time.Now()
	p := m.Payload()
	count := envelopeField(p, `"count":`)
	c.mu.Lock()
	c.messages++
	c.wire += publishPacketBytes(len(m.Topic()), len(p))
	c.readings += count
	sample := c.messages%decodeEvery == 0
	c.mu.Unlock()
	if sample {
		c.sampleLatency(p, at)
	}
}

func (c *benchConsumer) sampleLatency(p []byte, at time.Time) {
	msg, err := wire.DecodeMessage(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.errs = append(c.errs, err.Error())
		return
	}
	for _, r := range msg.Readings {
		if len(c.latencies) < maxLatencies {
			c.latencies = append(c.latencies, at.Sub(r.SourceTime))
		}
		if r.SourceTime.After(c.newest) {
			c.newest = r.SourceTime
		}
		if r.Status&0x480 == 0x480 {
			c.overflow++
		}
	}
}

// snapshot returns the counters and, with reset, starts a new latency sample.
func (c *benchConsumer) snapshot(reset bool) (readings, wire uint64, lat []time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	readings, wire, lat = c.readings, c.wire, c.latencies
	if reset {
		c.latencies = nil
	}
	return readings, wire, lat
}

// messageCount is the number of messages received.
func (c *benchConsumer) messageCount() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.messages
}

// lag is how far behind real time the newest sampled reading is.
func (c *benchConsumer) lag() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.newest.IsZero() {
		return time.Hour
	}
	return time.Since(c.newest)
}

// publishPacketBytes is the size of a QoS 1 PUBLISH: fixed header, remaining
// length, topic, packet id and payload.
func publishPacketBytes(topic, payload int) uint64 {
	rest := 2 + topic + 2 + payload
	n := 1 + 1
	for r := rest; r >= 128; r >>= 7 {
		n++
	}
	return uint64(n + rest)
}

// envelopeField reads the number after key in the envelope (which precedes
// the readings, so the search stays short).
func envelopeField(p []byte, key string) uint64 {
	head := p[:min(len(p), 256)]
	i := bytes.Index(head, []byte(key))
	if i < 0 {
		return 0
	}
	rest := head[i+len(key):]
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0
	}
	v, _ := strconv.ParseUint(string(rest[:end]), 10, 64)
	return v
}

// percentile returns the p-th percentile (0–100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}
