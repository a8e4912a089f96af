package mqtt

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/publisher"
	"factorybridge/publisher/internal/pubtest"
)

// Tests of what an MQTT 5 broker's answers make the publisher do, against
// the embedded broker refusing what a test asks it to.

const line2Topic = "factorybridge/bridge-1/line2/readings"

// TestMQTT5MessageProperties: every message carries its content type and
// the seqs of its first and last readings, which match its payload.
func TestMQTT5MessageProperties(t *testing.T) {
	b := startBroker(t)
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(6), 600))
	last := q.Append(want...)
	runPublisher(t, testOptions(t, b.url(), q))

	q.WaitAcked(t, last, waitLong)
	for _, m := range b.rec.messages() {
		first, lastSeq := userProp(m.props, propFirst), userProp(m.props, propLast)
		if m.props.ContentType != contentType || m.msg == nil ||
			first != strconv.FormatUint(m.msg.First, 10) || lastSeq != strconv.FormatUint(m.msg.Last, 10) {
			t.Fatalf("message on %s: content type %q, first %q last %q, payload %+v", m.topic, m.props.ContentType, first, lastSeq, m.msg)
		}
	}
}

func userProp(p packets.Properties, key string) string {
	for _, u := range p.User {
		if u.Key == key {
			return u.Val
		}
	}
	return ""
}

// TestPacketTooLargeShrinksAndResends: a broker that refuses messages
// above its limit with PUBACK 0x95 (and lets the probes through, so the
// delivery check cannot find it) gets every reading in smaller messages;
// nothing refused is acknowledged to the queue.
func TestPacketTooLargeShrinksAndResends(t *testing.T) {
	const limit = 1800
	b := startBrokerWith(t, brokerOptions{refuse: func(pk packets.Packet) error {
		if pk.FixedHeader.Qos == 1 && len(pk.Payload) > limit {
			return packets.ErrPacketTooLarge
		}
		return nil
	}})
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(12), 3000))
	last := q.Append(want...)
	opts := testOptions(t, b.url(), q)
	logger, logs := pubtest.CaptureLogger()
	opts.Logger = logger
	runPublisher(t, opts)

	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, 0)
	q.Check(t)
	for _, m := range b.rec.messages() {
		if len(m.payload) > limit {
			t.Fatalf("a refused message of %d bytes was recorded", len(m.payload))
		}
	}
	if !logs.Contains("messages are limited to 1024 bytes") || !logs.Contains("key=mqtt.max_message_bytes") {
		t.Errorf("no WARN with the size and the key:\n%s", logs)
	}
}

// TestNotAuthorizedHoldsTopic: the topic the broker refuses (0x87) is held
// with one ERROR however often it is tried again; its readings are not
// acknowledged while the other topics' flow, once; when the broker accepts
// it, they are delivered and acknowledged too. The broker here starts
// accepting at the start of a retry, so that no retry is refused halfway
// (which would resend what it delivered of the topic): a retry's messages
// follow each other closely, the retries are a hold apart. The hold is long
// enough that a loaded machine (CI, race detector) does not stretch one
// retry's messages across half of it: at 200 ms it did once, and the
// second half of a retry was accepted after its first half was refused.
func TestNotAuthorizedHoldsTopic(t *testing.T) {
	const retry = time.Second
	var refused atomic.Int32
	var allowSoon, allow atomic.Bool
	var lastRefusal atomic.Int64
	b := startBrokerWith(t, brokerOptions{refuse: func(pk packets.Packet) error {
		if pk.TopicName != line2Topic || allow.Load() {
			return nil
		}
		if allowSoon.Load() && time.Since(time.Unix(0, lastRefusal.Load())) > retry/2 {
			allow.Store(true)
			return nil
		}
		refused.Add(1)
		lastRefusal.Store(time.Now().UnixNano())
		return packets.ErrNotAuthorized
	}})
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(12), 3000))
	last := q.Append(want...)
	opts := testOptions(t, b.url(), q)
	opts.HoldRetry = retry
	logger, logs := pubtest.CaptureLogger()
	opts.Logger = logger
	p := runPublisher(t, opts)

	b.rec.waitReadings(t, countNot(want, "line2"), waitLong)
	first := refused.Load()
	testenv.Wait(t, waitLong, "line2 tried again", func() bool { return refused.Load() > first })
	if acked := p.Stats().AckedSeq; acked >= 3 { // seq 3 is line2's first
		t.Fatalf("acked through %d; line2's readings were never delivered", acked)
	}
	if n := logs.Count("level=ERROR"); n != 1 || !logs.Contains("topic="+line2Topic) || !logs.Contains("ACL") {
		t.Fatalf("%d ERROR lines; want 1 naming the topic and what to fix:\n%s", n, logs)
	}
	allowSoon.Store(true)
	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want))) // no duplicate: others were skipped when read again
	logs.WaitFor(t, waitLong, "the broker accepts the topic again")
	q.Check(t)
}

func countNot(rs []factorybridge.Reading, line string) int {
	n := 0
	for _, r := range rs {
		if r.Line != line {
			n++
		}
	}
	return n
}

// TestQuotaExceededPausesAndResends: messages refused for now (0x97) are
// sent again after a pause that grows while the broker refuses, with one
// WARN for the episode and an INFO when it ends. The broker here refuses
// until the test, during a pause, lets it accept: every message of the
// window was refused, so nothing arrives out of order.
func TestQuotaExceededPausesAndResends(t *testing.T) {
	var accept atomic.Bool
	var refused atomic.Int32
	b := startBrokerWith(t, brokerOptions{refuse: func(pk packets.Packet) error {
		if pk.FixedHeader.Qos == 1 && !accept.Load() {
			refused.Add(1)
			return packets.ErrQuotaExceeded
		}
		return nil
	}})
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(6), 2000))
	last := q.Append(want...)
	opts := testOptions(t, b.url(), q)
	opts.MinBackoff, opts.MaxBackoff = 400*time.Millisecond, time.Second
	logger, logs := pubtest.CaptureLogger()
	opts.Logger = logger
	p := runPublisher(t, opts)

	testenv.Wait(t, waitLong, "two windows refused", func() bool { return refused.Load() >= 16 })
	waitStats(t, p, "a pause", func(s publisher.Stats) bool { return s.InFlight == 0 })
	accept.Store(true)
	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
	if n := logs.Count("level=WARN"); n != 1 || !logs.Contains("0x97") {
		t.Errorf("%d WARN lines; want 1 with the reason code:\n%s", n, logs)
	}
	logs.WaitFor(t, waitLong, "the broker takes messages again")
}

// TestReceiveMaximumCapsWindow: the broker's Receive Maximum caps the
// in-flight window below max_inflight.
func TestReceiveMaximumCapsWindow(t *testing.T) {
	b := startBrokerWith(t, brokerOptions{caps: func(c *mochi.Capabilities) { c.ReceiveMaximum = 2 }})
	px := startProxy(t, b.addr)
	px.setMode(ackHold)
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(12), 3000))
	last := q.Append(want...)
	opts := testOptions(t, px.url(), q) // MaxInflight 8
	p := runPublisher(t, opts)

	px.waitHeld(t, 2, waitLong)
	waitStats(t, p, "a full window", func(s publisher.Stats) bool { return s.InFlight == 2 })
	px.release()
	q.WaitAcked(t, last, waitLong)
	if got := px.outstandingMax(); got > 2 {
		t.Fatalf("%d messages were outstanding at once; the broker's Receive Maximum is 2", got)
	}
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
}

// TestDisconnectForLargePacketsHalvesTheSize: a broker that announces no
// limit and closes the connection of a client whose packet is too large
// (mochi's MaximumPacketSize) breaks the delivery check's first
// connection; the next checks half the size, and every reading arrives.
func TestDisconnectForLargePacketsHalvesTheSize(t *testing.T) {
	b := startBrokerWith(t, brokerOptions{caps: func(c *mochi.Capabilities) { c.MaximumPacketSize = 2500 }})
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(12), 3000))
	last := q.Append(want...)
	logger, logs := pubtest.CaptureLogger()
	opts := testOptions(t, b.url(), q) // MaxMessageBytes 4096
	opts.Logger = logger
	runPublisher(t, opts)

	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
	if !logs.Contains("messages are limited to 2048 bytes") {
		t.Errorf("the size found is not logged:\n%s", logs)
	}
}

// TestQoSAboveBrokerMaximumPublishesNothing: a broker that takes QoS 0
// only gets nothing at QoS 1, and the log says why and what to set.
func TestQoSAboveBrokerMaximumPublishesNothing(t *testing.T) {
	b := startBrokerWith(t, brokerOptions{caps: func(c *mochi.Capabilities) { c.MaximumQos = 0 }})
	q := pubtest.NewMemQueue()
	q.Append(pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(3), 30))...)
	logger, logs := pubtest.CaptureLogger()
	opts := testOptions(t, b.url(), q)
	opts.Logger = logger
	runPublisher(t, opts)

	logs.WaitFor(t, waitLong, "mqtt.qos = 0")
	if q.AckCount() != 0 || len(b.rec.messages()) != 0 {
		t.Fatalf("acked %d times, %d messages at the broker", q.AckCount(), len(b.rec.messages()))
	}
}

// TestSessionResumesInFlight: when a connection breaks with messages in
// flight and the broker kept the session, the next connection resends
// them (DUP) rather than reading them again, and the rest follows.
func TestSessionResumesInFlight(t *testing.T) {
	b := startBroker(t)
	px := startProxy(t, b.addr)
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(6), 3000))
	p := runPublisher(t, testOptions(t, px.url(), q))

	q.WaitAcked(t, q.Append(want[:300]...), waitLong)
	px.setMode(ackSwallow)
	last := q.Append(want[300:]...)
	waitStats(t, p, "a full window", func(s publisher.Stats) bool { return s.InFlight == 8 })
	px.dropConnections()
	px.setMode(ackPass)
	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, 300)
	dups := 0
	for _, m := range b.rec.messages() {
		if m.dup {
			dups++
		}
	}
	if dups != 8 {
		t.Errorf("%d messages resent as duplicates; want the 8 in flight", dups)
	}
	if st := p.Stats(); st.Reconnects != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestTopicAliases: repeated topics use aliases up to the broker's
// maximum; the broker resolves them to the right topics.
func TestTopicAliases(t *testing.T) {
	c := &client5{aliases: map[string]uint16{}, aliasMax: 2}
	var got []string
	for _, topic := range []string{"a", "b", "a", "c", "b", "c"} {
		pb := &paho5.Publish{Topic: topic, Properties: &paho5.PublishProperties{}}
		c.alias(pb)
		a := "-"
		if pb.Properties.TopicAlias != nil {
			a = strconv.Itoa(int(*pb.Properties.TopicAlias))
		}
		got = append(got, pb.Topic+":"+a)
	}
	if s := strings.Join(got, " "); s != "a:1 b:2 :1 c:- :2 c:-" {
		t.Fatalf("topics and aliases %s", s)
	}
}
