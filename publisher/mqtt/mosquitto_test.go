package mqtt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"factorybridge/internal/testenv"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// subscribe connects a paho consumer to url and records every message on
// topic filter.
func subscribe(t testing.TB, url, filter string) *recorder {
	t.Helper()
	return subscribeAs(t, url, filter, "consumer")
}

// subscribeAs is subscribe with the client id clientID, so that two
// consumers of one broker do not take over each other's connection.
func subscribeAs(t testing.TB, url, filter, clientID string) *recorder {
	t.Helper()
	rec := newRecorder()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(clientID).SetCleanSession(true).SetAutoReconnect(false)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("consumer connect to %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		rec.add(received{topic: m.Topic(), qos: m.Qos(), retain: m.Retained(), payload: m.Payload()})
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return rec
}

// TestAgainstMosquitto publishes through a real mosquitto to a paho
// subscriber: every reading arrives, in order per node.
func TestAgainstMosquitto(t *testing.T) {
	m := testenv.StartMosquitto(t)
	rec := subscribe(t, m.URL, "factorybridge/bridge-1/#")
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(30), 20_000))
	last := q.Append(want...)
	runPublisher(t, testOptions(t, m.URL, q))

	q.WaitAcked(t, last, waitLong)
	rec.waitReadings(t, len(want), waitLong)
	pubtest.CheckDelivery(t, rec.decoded(t), want, uint64(len(want)))
	for _, msg := range rec.messages() {
		if msg.retain || len(msg.payload) > 4096 {
			t.Fatalf("message on %s: retain %v, %d bytes", msg.topic, msg.retain, len(msg.payload))
		}
	}
}

// Tests against mosquitto with the limits brokers in the field have. The
// subscriber is an MQTT 3.1.1 client either way.

// protocolsUnderTest are the protocols the broker tests run over.
var protocolsUnderTest = []string{Protocol5, Protocol311}

// TestMosquittoMessageSizeLimit: mosquitto drops messages over
// message_size_limit (acknowledging them at 3.1.1, refusing them with
// 0x95 at 5); the delivery check finds the size that passes, the log says
// it, and every reading arrives.
func TestMosquittoMessageSizeLimit(t *testing.T) {
	for _, proto := range protocolsUnderTest {
		t.Run(proto, func(t *testing.T) {
			m := testenv.StartMosquittoWith(t, testenv.MosquittoOptions{Extra: []string{"message_size_limit 3000"}})
			checkThroughMosquitto(t, m, proto, "messages are limited to 2048 bytes")
		})
	}
}

// TestMosquittoMaxPacketSize: mosquitto announces max_packet_size to
// MQTT 5 clients, whose messages then fit without a delivery check, and
// disconnects MQTT 3.1.1 clients that exceed it, which the delivery check
// survives by halving.
func TestMosquittoMaxPacketSize(t *testing.T) {
	for _, proto := range protocolsUnderTest {
		t.Run(proto, func(t *testing.T) {
			m := testenv.StartMosquittoWith(t, testenv.MosquittoOptions{Extra: []string{"max_packet_size 2500"}})
			want := map[string]string{Protocol5: "Maximum Packet Size is 2500 bytes", Protocol311: "messages are limited to 2048 bytes"}
			checkThroughMosquitto(t, m, proto, want[proto])
		})
	}
}

// TestMosquittoMaxInflight: with max_inflight_messages 2 (MQTT 5's Receive
// Maximum) every reading arrives.
func TestMosquittoMaxInflight(t *testing.T) {
	for _, proto := range protocolsUnderTest {
		t.Run(proto, func(t *testing.T) {
			m := testenv.StartMosquittoWith(t, testenv.MosquittoOptions{Extra: []string{"max_inflight_messages 2"}})
			checkThroughMosquitto(t, m, proto, "")
		})
	}
}

// checkThroughMosquitto publishes readings over proto through m and checks
// that every one arrives once, in order per node, with no message over the
// configured size, and that the log has wantLog.
func checkThroughMosquitto(t *testing.T, m *testenv.Mosquitto, proto, wantLog string) {
	t.Helper()
	rec := subscribe(t, m.URL, "factorybridge/bridge-1/#")
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(30), 10_000))
	last := q.Append(want...)
	opts := testOptions(t, m.URL, q)
	opts.Protocol = proto
	logger, logs := pubtest.CaptureLogger()
	opts.Logger = logger
	p := runPublisher(t, opts)

	q.WaitAcked(t, last, waitLong)
	rec.waitReadings(t, len(want), waitLong)
	pubtest.CheckDelivery(t, rec.decoded(t), want, uint64(len(want)))
	if wantLog != "" && !logs.Contains(wantLog) {
		t.Errorf("log has no %q:\n%s", wantLog, logs)
	}
	if !logs.Contains("protocol=" + proto) {
		t.Errorf("not connected over MQTT %s:\n%s", proto, logs)
	}
	t.Logf("MQTT %s: %+v\n%s", proto, p.Stats(), logs)
}

// TestMosquittoACLHoldsTopic: mosquitto's ACL forbids one topic (PUBACK
// 0x87 at MQTT 5): its readings stay buffered with one ERROR while the
// others arrive; once the ACL allows it (reloaded), they arrive too.
func TestMosquittoACLHoldsTopic(t *testing.T) {
	acl := filepath.Join(t.TempDir(), "acl")
	writeACL := func(lines ...string) {
		rules := append([]string{"topic read #", "topic readwrite factorybridge/bridge-1/probe"}, lines...)
		if err := os.WriteFile(acl, []byte(strings.Join(rules, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeACL("topic write factorybridge/bridge-1/line0/#", "topic write factorybridge/bridge-1/line1/#")
	m := testenv.StartMosquittoWith(t, testenv.MosquittoOptions{Extra: []string{"acl_file " + acl}})
	rec := subscribe(t, m.URL, "factorybridge/bridge-1/#")
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(12), 3000))
	last := q.Append(want...)
	opts := testOptions(t, m.URL, q)
	opts.Protocol, opts.HoldRetry = Protocol5, 200*time.Millisecond
	logger, logs := pubtest.CaptureLogger()
	opts.Logger = logger
	p := runPublisher(t, opts)

	rec.waitReadings(t, countNot(want, "line2"), waitLong)
	if acked := p.Stats().AckedSeq; acked >= 3 { // seq 3 is line2's first
		t.Fatalf("acked through %d; line2's readings never arrived", acked)
	}
	if n := logs.Count("level=ERROR"); n != 1 || !logs.Contains("topic="+line2Topic) {
		t.Fatalf("%d ERROR lines; want 1 naming the topic:\n%s", n, logs)
	}
	writeACL("topic write factorybridge/bridge-1/#")
	m.Reload()
	q.WaitAcked(t, last, waitLong)
	rec.waitReadings(t, len(want), waitLong)
	pubtest.CheckDelivery(t, rec.decoded(t), want, 0) // a retry refused halfway may resend line2's
	checkNoDuplicateOutside(t, rec.decoded(t), "line2")
}

// checkNoDuplicateOutside fails when a reading of a line other than line
// arrived twice.
func checkNoDuplicateOutside(t *testing.T, msgs []*wire.Message, line string) {
	t.Helper()
	seen := map[uint64]bool{}
	for _, m := range msgs {
		for _, r := range m.Readings {
			if seen[r.Seq] && !strings.Contains(r.Name, "/"+line+"/") {
				t.Fatalf("seq %d (%s) arrived twice", r.Seq, r.Name)
			}
			seen[r.Seq] = true
		}
	}
}
