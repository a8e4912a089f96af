package mqtt

import (
	"errors"
	"strings"
	"testing"

	"factorybridge/publisher"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

func TestNewRejectsBadOptions(t *testing.T) {
	two := 2
	tests := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"no bridge id", func(o *Options) { o.BridgeID = "" }, "BridgeID"},
		{"no queue", func(o *Options) { o.Queue = nil }, "Queue"},
		{"negative option", func(o *Options) { o.AckTimeout = -1 }, "negative"},
		{"scheme", func(o *Options) { o.Broker = "mqtt://h:1883" }, "scheme"},
		{"no host", func(o *Options) { o.Broker = "tcp://" }, "no host"},
		{"password not in url errors", func(o *Options) { o.Broker = "udp://u:hunter2@h" }, "udp://u:xxxxx@h"},
		{"qos 2", func(o *Options) { o.QoS = &two }, "mqtt.qos = 2"},
		{"tiny messages", func(o *Options) { o.MaxMessageBytes = 100 }, "max_message_bytes"},
		{"below the wire minimum", func(o *Options) { o.MaxMessageBytes = wire.MinMessageBytes - 1 }, "max_message_bytes"},
		{"negative inflight", func(o *Options) { o.MaxInflight = -1 }, "max_inflight"},
		{"inflight over MQTT's ids", func(o *Options) { o.MaxInflight = MaxInflightLimit + 1 }, "max_inflight"},
		{"encoding", func(o *Options) { o.Encoding = "cbor" }, `"cbor"`},
		{"negative rate cap", func(o *Options) { o.MaxMessagesPerSecond = -1 }, "negative"},
		{"topic wildcard", func(o *Options) { o.Topic = "a/+/b" }, "wildcard"},
		{"topic placeholder", func(o *Options) { o.Topic = "a/{site}" }, "{site}"},
		{"cert without key", func(o *Options) { o.Broker, o.CertFile = "ssl://h:8883", "c.pem" }, "key_file"},
		{"tls files for tcp", func(o *Options) { o.CAFile = "ca.pem" }, "does not use TLS"},
		{"broker with a dialect", func(o *Options) { o.Dialect = &fakeDialect{} }, "Dialect decides"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(t, "tcp://127.0.0.1:1883", pubtest.NewMemQueue())
			tt.mutate(&opts)
			_, err := New(opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v; want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

func TestNewAcceptsEverySchemeAndDefaults(t *testing.T) {
	for _, u := range []string{"tcp://h:1883", "ssl://h:8883", "tls://h:8883", "ws://h:80/mqtt", "wss://h/mqtt"} {
		p, err := New(Options{BridgeID: "b", Queue: pubtest.NewMemQueue(), Broker: u}) // QoS nil means the default, 1
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if p.qos != 1 || p.clientID != "factorybridge-b" || p.opts.AckTimeout != MinAckTimeout*6 || p.opts.ReadBatch != DefaultReadBatch {
			t.Fatalf("%s: defaults qos %d client %q ack timeout %v", u, p.qos, p.clientID, p.opts.AckTimeout)
		}
	}
}

// TestNewZeroOptionsAreDefaults: only the bridge, the queue and the broker
// are required; every other zero option is its documented default.
func TestNewZeroOptionsAreDefaults(t *testing.T) {
	p, err := New(Options{BridgeID: "b", Queue: pubtest.NewMemQueue(), Broker: "tcp://h:1883"})
	if err != nil {
		t.Fatal(err)
	}
	o := p.opts
	if *o.QoS != DefaultQoS || o.MaxMessageBytes != DefaultMaxMessageBytes || o.MaxBatchDelay != DefaultMaxBatchDelay ||
		o.MaxInflight != DefaultMaxInflight || o.Encoding != DefaultEncoding || o.KeepAlive != DefaultKeepAlive ||
		o.ConnectTimeout != DefaultConnectTimeout || o.IdlePoll != DefaultIdlePoll || o.MinBackoff != DefaultMinBackoff ||
		o.MaxBackoff != DefaultMaxBackoff || p.limiter != nil {
		t.Errorf("defaults %+v", o)
	}
	if got := p.topics.readings.Render("s", "l1", "st"); got != "factorybridge/b/l1/readings" {
		t.Errorf("default topic %q", got)
	}
	if got := p.topics.oee.Render("s", "l1", ""); got != "factorybridge/b/l1/oee" {
		t.Errorf("default OEE topic %q", got)
	}
}

func TestRunTwice(t *testing.T) {
	b := startBroker(t)
	p := runPublisher(t, testOptions(t, b.url(), pubtest.NewMemQueue()))
	waitStats(t, p, "connected", func(s publisher.Stats) bool { return s.Connected })
	if err := p.Run(t.Context()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Run = %v", err)
	}
}
