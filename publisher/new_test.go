package publisher

import (
	"errors"
	"strings"
	"testing"

	"factorybridge/config"
)

func TestNewRejectsBadConfig(t *testing.T) {
	two := 2
	tests := []struct {
		name   string
		mutate func(*config.MQTT, *Options)
		want   string
	}{
		{"no bridge id", func(_ *config.MQTT, o *Options) { o.BridgeID = "" }, "BridgeID"},
		{"no queue", func(_ *config.MQTT, o *Options) { o.Queue = nil }, "Queue"},
		{"negative option", func(_ *config.MQTT, o *Options) { o.AckTimeout = -1 }, "negative"},
		{"scheme", func(c *config.MQTT, _ *Options) { c.Broker = "mqtt://h:1883" }, "scheme"},
		{"no host", func(c *config.MQTT, _ *Options) { c.Broker = "tcp://" }, "no host"},
		{"password not in url errors", func(c *config.MQTT, _ *Options) { c.Broker = "udp://u:hunter2@h" }, "udp://u:xxxxx@h"},
		{"qos 2", func(c *config.MQTT, _ *Options) { c.QoS = &two }, "mqtt.qos = 2"},
		{"tiny messages", func(c *config.MQTT, _ *Options) { c.MaxMessageBytes = 100 }, "max_message_bytes"},
		{"no inflight", func(c *config.MQTT, _ *Options) { c.MaxInflight = 0 }, "max_inflight"},
		{"encoding", func(c *config.MQTT, _ *Options) { c.Encoding = "cbor" }, `"cbor"`},
		{"topic wildcard", func(c *config.MQTT, _ *Options) { c.Topic = "a/+/b" }, "wildcard"},
		{"topic placeholder", func(c *config.MQTT, _ *Options) { c.Topic = "a/{site}" }, "{site}"},
		{"cert without key", func(c *config.MQTT, _ *Options) { c.Broker, c.CertFile = "ssl://h:8883", "c.pem" }, "key_file"},
		{"tls files for tcp", func(c *config.MQTT, _ *Options) { c.CAFile = "ca.pem" }, "does not use TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, opts := testConfig("tcp://127.0.0.1:1883"), testOptions(t, newMemQueue())
			tt.mutate(&cfg, &opts)
			_, err := New(cfg, opts)
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
		cfg := testConfig(u)
		cfg.QoS = nil // means the default, 1
		p, err := New(cfg, Options{BridgeID: "b", Queue: newMemQueue()})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if p.qos != 1 || p.clientID != "factorybridge-b" || p.opts.AckTimeout != MinAckTimeout*6 || p.opts.ReadBatch != DefaultReadBatch {
			t.Fatalf("%s: defaults qos %d client %q ack timeout %v", u, p.qos, p.clientID, p.opts.AckTimeout)
		}
	}
}

func TestRunTwice(t *testing.T) {
	b := startBroker(t)
	p := runPublisher(t, testConfig(b.url()), testOptions(t, newMemQueue()))
	waitStats(t, p, "connected", func(s Stats) bool { return s.Connected })
	if err := p.Run(t.Context()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Run = %v", err)
	}
}
