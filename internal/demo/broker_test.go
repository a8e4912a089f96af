package demo

import (
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func startBroker(t testing.TB) *Broker {
	t.Helper()
	b, err := StartBroker("127.0.0.1:0", discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	return b
}

func connectPaho(t testing.TB, url, clientID string) paho.Client {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(clientID).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect to %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func TestBrokerCountsQoS1Publishes(t *testing.T) {
	b := startBroker(t)
	if !strings.HasPrefix(b.URL, "tcp://127.0.0.1:") || strings.HasSuffix(b.URL, ":0") {
		t.Fatalf("URL = %q, want tcp://127.0.0.1:<port>", b.URL)
	}
	c := connectPaho(t, b.URL, "demo-test")
	payloads := []string{"hello", "factory"}
	for _, p := range payloads {
		tok := c.Publish("factorybridge/demo/line1/readings", 1, false, p)
		// A QoS 1 token completes when the PUBACK arrives.
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %q: no PUBACK: %v", p, tok.Error())
		}
	}
	msgs, bytes := b.Received()
	if msgs != 2 || bytes != uint64(len("hello")+len("factory")) {
		t.Fatalf("Received() = %d messages, %d bytes; want 2, %d", msgs, bytes, len("hello")+len("factory"))
	}
}

func TestBrokerDeliversToSubscribers(t *testing.T) {
	b := startBroker(t)
	got := make(chan string, 1)
	sub := connectPaho(t, b.URL, "demo-sub")
	tok := sub.Subscribe("factorybridge/#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	pub := connectPaho(t, b.URL, "demo-pub")
	pub.Publish("factorybridge/x", 1, false, "ping")
	select {
	case m := <-got:
		if m != "ping" {
			t.Fatalf("got %q, want ping", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscriber got nothing")
	}
}

func TestStartBrokerRefusesNonLoopback(t *testing.T) {
	if b, err := StartBroker("0.0.0.0:0", discardLogger()); err == nil {
		b.Close()
		t.Fatal("StartBroker on 0.0.0.0 succeeded, want an error")
	}
}

func TestBrokerCloseTwice(t *testing.T) {
	b := startBroker(t)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// t.Cleanup closes it again; mochi's Close alone would panic.
}
