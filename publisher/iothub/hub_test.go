package iothub

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/hubsim"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/mqtt"
	"factorybridge/publisher/wire"
)

// hubRecorder collects the messages the stand-in accepted, decoded.
type hubRecorder struct {
	mu     sync.Mutex
	msgs   []*wire.Message
	raw    []hubsim.Message // telemetry and OEE messages
	status []hubsim.Message
	errs   []string
}

func (r *hubRecorder) add(m hubsim.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.Properties["type"] == "status" {
		r.status = append(r.status, m)
		return
	}
	dm, err := wire.DecodeMessage(m.Payload)
	r.raw = append(r.raw, m)
	if err != nil {
		r.errs = append(r.errs, err.Error())
		return
	}
	r.msgs = append(r.msgs, dm)
}

func (r *hubRecorder) statuses() []hubsim.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hubsim.Message(nil), r.status...)
}

func (r *hubRecorder) messages() ([]*wire.Message, []hubsim.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*wire.Message(nil), r.msgs...), append([]hubsim.Message(nil), r.raw...)
}

func startHub(t testing.TB, opts hubsim.Options) (*hubsim.Hub, *hubRecorder) {
	rec := &hubRecorder{}
	opts.OnMessage = rec.add
	return hubsim.Start(t, opts), rec
}

// testMQTT is the MQTT tuning of the hub tests: the hub's size limit
// (MaxMessageBytes zero), short batch delays, fast retries, the test's log.
func testMQTT(t testing.TB, q factorybridge.Queue) mqtt.Options {
	qos := 1
	return mqtt.Options{
		BridgeID: "bridge-1", Queue: q, Logger: pubtest.Logger(t),
		QoS: &qos, MaxBatchDelay: 10 * time.Millisecond, MaxInflight: 8, Encoding: wire.EncodingCompact,
		KeepAlive: 30 * time.Second, ConnectTimeout: 2 * time.Second,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	}
}

// deviceOptions are Options for a new device of h, connecting to it as a
// gateway would: to "localhost" with the stand-in's CA, the hub's name in
// the token.
func deviceOptions(t testing.TB, h *hubsim.Hub, device string, q factorybridge.Queue) Options {
	s, err := NewKeySigner(h.AddDevice(device))
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		MQTT:     testMQTT(t, q),
		Identity: Identity{HostName: h.HostName(), DeviceID: device},
		Host:     "localhost", Port: h.Port(), CAFile: h.CAFile(), Signer: s,
	}
}

// runPublisher starts Run and stops it when the test ends.
func runPublisher(t testing.TB, opts Options) *Publisher {
	t.Helper()
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	pubtest.Run(t, p)
	return p
}

func TestHubDeviceDeliversEverything(t *testing.T) {
	h, rec := startHub(t, hubsim.Options{})
	q := pubtest.NewMemQueue()
	want := pubtest.Readings(pubtest.Nodes(30), 3000)
	last := q.Append(want...)
	runPublisher(t, deviceOptions(t, h, "press-1", q))
	q.WaitAcked(t, last, 30*time.Second)
	msgs, raw := rec.messages()
	pubtest.CheckDelivery(t, msgs, pubtest.WithSeqs(want), uint64(len(want)))
	for _, m := range raw {
		p := m.Properties
		if p["$.ct"] != "application/json" || p["$.ce"] != "utf-8" || p["type"] != "telemetry" ||
			p["bridge"] != "bridge-1" || !strings.HasPrefix(p["line"], "line") || !strings.HasPrefix(p["$.mid"], "bridge-1-") {
			t.Fatalf("message properties %v", p)
		}
		if m.DeviceID != "press-1" || m.ModuleID != "" {
			t.Fatalf("message from %s/%s", m.DeviceID, m.ModuleID)
		}
	}
	if c := h.Closes(); len(c) > 0 {
		t.Errorf("the hub closed connections: %+v", c)
	}
}

// TestHubFullMessagesFitTheLimit packs readings into messages as large as
// the default allows; the hub (which counts the properties) accepts them all.
func TestHubFullMessagesFitTheLimit(t *testing.T) {
	h, rec := startHub(t, hubsim.Options{})
	q := pubtest.NewMemQueue()
	var want []factorybridge.Reading
	for i := range 300 {
		want = append(want, factorybridge.Reading{Name: "big/line1/s/blob", Line: "line1", Station: "s",
			Value:      factorybridge.TextValue(factorybridge.TypeString, strings.Repeat("x", 5000+i)),
			SourceTime: time.Unix(1700000000, int64(i)*1e6).UTC(), ServerTime: time.Unix(1700000000, int64(i)*1e6).UTC()})
	}
	last := q.Append(want...)
	opts := deviceOptions(t, h, "big", q)
	opts.MQTT.MaxBatchDelay = time.Second
	p := runPublisher(t, opts)
	q.WaitAcked(t, last, 30*time.Second)
	msgs, raw := rec.messages()
	pubtest.CheckDelivery(t, msgs, pubtest.WithSeqs(want), uint64(len(want)))
	full := 0
	for _, m := range raw {
		if len(m.Payload) > MaxPayloadBytes-6000 {
			full++
		}
	}
	if full == 0 || len(h.Closes()) > 0 {
		t.Errorf("%d of %d messages near the limit, closes %+v", full, len(raw), h.Closes())
	}
	if st := p.Stats(); st.BillableUnits < uint64(full)*63 || st.BillableUnitsLastHour != st.BillableUnits {
		t.Errorf("billable units %d (last hour %d) for %d full messages", st.BillableUnits, st.BillableUnitsLastHour, full)
	}
}

func TestHubModuleOverWebSocket(t *testing.T) {
	h, rec := startHub(t, hubsim.Options{})
	key := h.AddModule("edge-1", "factorybridge")
	s, _ := NewKeySigner(key)
	q := pubtest.NewMemQueue()
	want := pubtest.Readings(pubtest.Nodes(6), 500)
	last := q.Append(want...)
	runPublisher(t, Options{MQTT: testMQTT(t, q), Identity: Identity{HostName: h.HostName(), DeviceID: "edge-1", ModuleID: "factorybridge"},
		Host: "localhost", Port: h.WSPort(), WebSocket: true, CAFile: h.CAFile(), Signer: s, Output: "opc data"})
	q.WaitAcked(t, last, 30*time.Second)
	msgs, raw := rec.messages()
	pubtest.CheckDelivery(t, msgs, pubtest.WithSeqs(want), uint64(len(want)))
	if raw[0].ModuleID != "factorybridge" || raw[0].Properties["$.on"] != "opc data" {
		t.Errorf("module message %s/%s properties %v", raw[0].DeviceID, raw[0].ModuleID, raw[0].Properties)
	}
}

func TestHubX509Device(t *testing.T) {
	h, rec := startHub(t, hubsim.Options{})
	cert := h.AddX509Device("x509-dev")
	q := pubtest.NewMemQueue()
	last := q.Append(pubtest.Readings(pubtest.Nodes(3), 100)...)
	runPublisher(t, Options{MQTT: testMQTT(t, q), Identity: Identity{HostName: h.HostName(), DeviceID: "x509-dev"},
		Host: "localhost", Port: h.Port(), CAFile: h.CAFile(), CertFile: cert.CertFile, KeyFile: cert.KeyFile})
	q.WaitAcked(t, last, 30*time.Second)
	if _, raw := rec.messages(); len(raw) == 0 || raw[0].DeviceID != "x509-dev" {
		t.Errorf("no message from the X.509 device")
	}
}

// TestHubUnverifiedGatewayRefused connects to the gateway without its CA:
// the bridge must refuse the TLS handshake and keep everything buffered.
func TestHubUnverifiedGatewayRefused(t *testing.T) {
	h, rec := startHub(t, hubsim.Options{})
	q := pubtest.NewMemQueue()
	q.Append(pubtest.Readings(pubtest.Nodes(3), 50)...)
	log, logs := pubtest.CaptureLogger()
	opts := deviceOptions(t, h, "gw-dev", q)
	opts.MQTT.Logger = log
	opts.CAFile = ""
	runPublisher(t, opts)
	logs.WaitFor(t, 10*time.Second, "certificate signed by unknown authority")
	if _, raw := rec.messages(); len(raw) > 0 || q.AckCount() > 0 {
		t.Errorf("%d messages reached an unverified gateway, %d acks", len(raw), q.AckCount())
	}
}

// TestHubBadKeyRefused shows a wrong key is refused by the hub, retried
// with backoff, and never logged.
func TestHubBadKeyRefused(t *testing.T) {
	h, _ := startHub(t, hubsim.Options{})
	q := pubtest.NewMemQueue()
	q.Append(pubtest.Readings(pubtest.Nodes(3), 50)...)
	log, logs := pubtest.CaptureLogger()
	opts := deviceOptions(t, h, "dev", q)
	opts.MQTT.Logger = log
	wrong := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	opts.Signer, _ = NewKeySigner(wrong)
	runPublisher(t, opts)
	testenv.Wait(t, 10*time.Second, "three refusals", func() bool { return len(h.Refusals()) >= 3 })
	for _, r := range h.Refusals() {
		if r.Reason != hubsim.ReasonBadSignature {
			t.Errorf("refusal %+v, want a bad signature", r)
		}
	}
	if strings.Contains(logs.String(), wrong) || strings.Contains(logs.String(), "sig=") {
		t.Errorf("the key or a token was logged:\n%s", logs.String())
	}
	if q.AckCount() > 0 {
		t.Error("readings acknowledged without a connection")
	}
}

// TestHubExpiredTokenRefused: a ready-made token cannot be renewed; once
// expired the hub refuses it and nothing is acknowledged.
func TestHubExpiredTokenRefused(t *testing.T) {
	h, _ := startHub(t, hubsim.Options{})
	q := pubtest.NewMemQueue()
	opts := deviceOptions(t, h, "tok", q)
	tok, err := Token(context.Background(), opts.Signer, opts.Identity.ResourceURI(), time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	opts.Signer, opts.Token = nil, tok
	q.Append(pubtest.Readings(pubtest.Nodes(3), 10)...)
	log, logs := pubtest.CaptureLogger()
	opts.MQTT.Logger = log
	runPublisher(t, opts)
	logs.WaitFor(t, 10*time.Second, "SharedAccessSignature of the connection string expired at")
	if len(h.Refusals()) > 0 || q.AckCount() > 0 {
		t.Errorf("an expired token was sent (%+v) or readings acknowledged (%d)", h.Refusals(), q.AckCount())
	}

	// A token that expires while connected: the hub closes the connection
	// at its expiry, and the bridge says why it cannot connect again.
	h2, _ := startHub(t, hubsim.Options{})
	opts2 := deviceOptions(t, h2, "tok2", pubtest.NewMemQueue())
	opts2.Token, _ = Token(context.Background(), opts2.Signer, opts2.Identity.ResourceURI(), time.Now().Add(2*time.Second))
	opts2.Signer = nil
	log2, logs2 := pubtest.CaptureLogger()
	opts2.MQTT.Logger = log2
	runPublisher(t, opts2)
	testenv.Wait(t, 10*time.Second, "the hub to close at expiry and the bridge to say why", func() bool {
		closes := h2.Closes()
		return len(closes) > 0 && closes[0].Reason == hubsim.ReasonTokenExpired &&
			strings.Contains(logs2.String(), "expired at")
	})
}
