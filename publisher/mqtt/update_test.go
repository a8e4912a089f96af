package mqtt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// TestUpdateChanges: what an update changes is named, and only the broker,
// the identity, the protocol, the session and the presence topic need a
// new connection.
func TestUpdateChanges(t *testing.T) {
	zero := 0
	tests := []struct {
		name      string
		mutate    func(*Options)
		want      []string
		reconnect bool
	}{
		{"nothing", func(*Options) {}, nil, false},
		{"logger and queue are not settings", func(o *Options) { o.Logger, o.Queue = nil, nil }, nil, false},
		{"topic", func(o *Options) { o.Topic = "plant/{line}" }, []string{"topic"}, false},
		{"oee and event topics", func(o *Options) { o.OEETopic, o.EventTopic = "o/{line}", "e/{line}" }, []string{"oee_topic", "event_topic"}, false},
		{"qos", func(o *Options) { o.QoS = &zero }, []string{"qos"}, false},
		{"packing", func(o *Options) { o.Encoding, o.MaxMessageBytes = wire.EncodingFlat, 8192 }, []string{"max_message_bytes", "encoding"}, false},
		{"pacing", func(o *Options) { o.MaxInflight, o.MaxBatchDelay, o.MaxMessagesPerSecond = 5, time.Second, 3 },
			[]string{"max_batch_delay", "max_inflight", "max_messages_per_second"}, false},
		{"cycles", func(o *Options) {
			o.CycleGrace, o.PublishingIntervals = time.Second, map[string]time.Duration{"plc": 500 * time.Millisecond}
		}, []string{"cycle_grace", "publishing_interval"}, false},
		{"next connection's", func(o *Options) { o.KeepAlive, o.ConnectTimeout, o.ProbeTopic = time.Minute, time.Second, "p/x" },
			[]string{"probe_topic", "keep_alive", "connect_timeout", "ack_timeout"}, false}, // its default follows keep_alive
		{"hold retry", func(o *Options) { o.HoldRetry = time.Hour }, []string{"hold_retry"}, false},
		{"presence payload", func(o *Options) { o.Presence = &Presence{Topic: "s", Online: []byte("digest 2")} }, []string{"presence"}, false},
		{"presence topic", func(o *Options) { o.Presence = &Presence{Topic: "s2"} }, []string{"presence"}, true},
		{"presence off", func(o *Options) { o.Presence = nil }, []string{"presence"}, true},
		{"broker", func(o *Options) { o.Broker = "tcp://127.0.0.1:1884" }, []string{"broker"}, true},
		{"client id", func(o *Options) { o.ClientID = "other" }, []string{"client_id"}, true},
		{"credentials", func(o *Options) { o.Username, o.Password = "u", "hunter2" }, []string{"username", "password"}, true},
		{"protocol", func(o *Options) { o.Protocol = Protocol311 }, []string{"protocol"}, true},
		{"session expiry", func(o *Options) { o.SessionExpiry = time.Hour }, []string{"session_expiry"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(t, "tcp://127.0.0.1:1883", pubtest.NewMemQueue())
			opts.Presence = &Presence{Topic: "s", Online: []byte("digest 1")}
			p, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(&opts)
			u, err := p.newUpdate(opts)
			if err != nil {
				t.Fatal(err)
			}
			c := p.changes(u)
			if !slices.Equal(c.names, tt.want) || c.reconnect != tt.reconnect {
				t.Fatalf("changes = %q, reconnect %v; want %q, %v", c.names, c.reconnect, tt.want, tt.reconnect)
			}
		})
	}
}

// TestUpdateRejected: invalid settings are refused with the reason, and
// the running publisher goes on as it was: same topic, same connection,
// nothing logged as updated.
func TestUpdateRejected(t *testing.T) {
	m := testenv.StartMosquitto(t)
	rec := subscribe(t, m.URL, "#")
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(6), 600))
	opts := testOptions(t, m.URL, q)
	logger, logs := pubtest.CaptureLogger()
	opts.Logger = logger
	p := runPublisher(t, opts)
	q.WaitAcked(t, q.Append(want[:300]...), waitLong)

	two := 2
	missing := filepath.Join(t.TempDir(), "missing-ca.pem")
	tests := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"bridge id", func(o *Options) { o.BridgeID = "bridge-2" }, "bridge id"},
		{"qos", func(o *Options) { o.QoS = &two }, "mqtt.qos = 2"},
		{"topic", func(o *Options) { o.Topic = "a/#" }, "wildcard"},
		{"scheme", func(o *Options) { o.Broker = "udp://127.0.0.1:1" }, "scheme"},
		{"negative", func(o *Options) { o.MaxBatchDelay = -1 }, "negative"},
		{"unreadable ca file", func(o *Options) { o.Broker, o.CAFile = "ssl://127.0.0.1:1", missing }, "mqtt.ca_file"},
		{"presence without topic", func(o *Options) { o.Presence = &Presence{} }, "Presence.Topic"},
	}
	for _, tt := range tests {
		o := opts
		o.Logger = nil
		tt.mutate(&o)
		if err := p.Update(o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Update = %v; want an error containing %q", tt.name, err, tt.want)
		}
	}
	last := q.Append(want[300:]...)
	q.WaitAcked(t, last, waitLong)
	rec.waitReadings(t, len(want), waitLong)
	for _, msg := range rec.messages() {
		if !strings.HasPrefix(msg.topic, "factorybridge/bridge-1/") {
			t.Errorf("message on %s after refused updates", msg.topic)
		}
	}
	pubtest.CheckDelivery(t, rec.decoded(t), want, 0)
	if st := p.Stats(); st.Connections != 1 || st.Reconnects != 0 {
		t.Errorf("stats after refused updates: %+v", st)
	}
	if logs.Contains("publisher settings") {
		t.Errorf("a refused update was logged as applied:\n%s", logs)
	}
	if n := connectionsSeen(t, m, "factorybridge-bridge-1"); n != 1 {
		t.Errorf("mosquitto saw %d connections of the bridge; want 1", n)
	}
}

// TestUpdateAfterRun: once Run returned, Update says so.
func TestUpdateAfterRun(t *testing.T) {
	opts := testOptions(t, "tcp://127.0.0.1:1", pubtest.NewMemQueue())
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Update(opts); err != nil {
		t.Fatalf("Update before Run = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Update(opts); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Update after Run = %v; want ErrNotRunning", err)
	}
}

// connectionsSeen counts the connections mosquitto logged of clientID
// ("New client connected from … as <id> (…)").
func connectionsSeen(t testing.TB, m *testenv.Mosquitto, clientID string) int {
	t.Helper()
	b, err := os.ReadFile(m.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, "New client connected") && strings.Contains(line, " as "+clientID+" ") {
			n++
		}
	}
	return n
}

// TestHeldTopicRenamed: a reading of a topic held under its old name stays
// exempt from the delivered ones under its new name until the ack cursor
// passes the readings read before the update.
func TestHeldTopicRenamed(t *testing.T) {
	topics := func(tmpl string) topicSet {
		tp, err := wire.ParseTopic(tmpl, "b")
		if err != nil {
			t.Fatal(err)
		}
		return topicSet{readings: tp, oee: tp, events: tp}
	}
	h := newHoldState(time.Minute)
	h.held["old/line1"], h.exempt["old/line1"], h.through = 0x87, struct{}{}, 10
	h.retopic(topics("old/{line}"))
	delete(h.held, "old/line1") // tried again: no longer held
	held, other := &factorybridge.Reading{Line: "line1", Seq: 5}, &factorybridge.Reading{Line: "line2", Seq: 6}
	if !h.isExempt(held, "new/line1") || h.isExempt(other, "new/line2") {
		t.Fatalf("exempt: held topic's reading %v, other's %v; want true, false",
			h.isExempt(held, "new/line1"), h.isExempt(other, "new/line2"))
	}
	h.acked(10)
	if h.isExempt(held, "new/line1") || len(h.former) != 0 {
		t.Fatal("still exempt once the cursor passed through")
	}
}
