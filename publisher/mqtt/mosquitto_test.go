package mqtt

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"factorybridge/internal/testenv"
	"factorybridge/publisher/internal/pubtest"
)

// subscribe connects a paho consumer to url and records every message on
// topic filter.
func subscribe(t testing.TB, url, filter string) *recorder {
	t.Helper()
	rec := newRecorder()
	o := paho.NewClientOptions().AddBroker(url).SetClientID("consumer").SetCleanSession(true).SetAutoReconnect(false)
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
