package iothub

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/publisher/mqtt"
)

// fakeConn is a connection the test plays the hub on.
type fakeConn struct {
	subErr error
	mu     sync.Mutex
	handle func(topic string, payload []byte)
	out    chan published
}

type published struct {
	topic   string
	payload []byte
}

func newFakeConn() *fakeConn { return &fakeConn{out: make(chan published, 64)} }

func (f *fakeConn) Subscribe(_ map[string]byte, handle func(string, []byte)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handle = handle
	return f.subErr
}

func (f *fakeConn) Publish(topic string, _ byte, payload []byte) { f.out <- published{topic, payload} }

// send plays a message from the hub.
func (f *fakeConn) send(topic, payload string) {
	f.mu.Lock()
	h := f.handle
	f.mu.Unlock()
	h(topic, []byte(payload))
}

// next returns the next control message the bridge published whose topic
// starts with prefix, skipping others (status messages).
func (f *fakeConn) next(t *testing.T, prefix string) published {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case p := <-f.out:
			if strings.HasPrefix(p.topic, prefix) {
				return p
			}
		case <-deadline:
			t.Fatalf("nothing published to %s", prefix)
		}
	}
}

// rid is a request topic's $rid.
func rid(topic string) string {
	_, params := topicParams(topic)
	return params.Get("$rid")
}

// mapReporter reports a document the test changes.
type mapReporter struct {
	mu  sync.Mutex
	doc map[string]any
}

func (r *mapReporter) set(doc map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.doc = doc
}
func (r *mapReporter) Status() any      { return "ok" }
func (r *mapReporter) OEE() (any, bool) { return nil, false }
func (r *mapReporter) Reported() any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.doc
}

// startControl runs a control over conn until the test ends.
func startControl(t *testing.T, o Options, conn mqtt.Conn) (*dialect, *testenv.Logs) {
	t.Helper()
	logs := &testenv.Logs{}
	o.Identity, o.Token = identity("h", "d", ""), "x"
	o.MQTT.BridgeID, o.MQTT.Logger, o.MQTT.MaxMessageBytes = "b", logs.Logger(), 1<<16
	if o.ReportInterval == 0 {
		o.ReportInterval = time.Hour // only the test's events report
	}
	d, err := newDialect(o)
	if err != nil {
		t.Fatal(err)
	}
	runControl(t, d, conn)
	return d, logs
}

func runControl(t *testing.T, d *dialect, conn mqtt.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = newControl(d, conn).run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// TestReportedKeysEncodedAndRecordedOnSuccess: names with characters the
// twin forbids are encoded; a refused patch is sent again with backoff,
// logged once, and only a 204 counts as reported.
func TestReportedKeysEncodedAndRecordedOnSuccess(t *testing.T) {
	rep := &mapReporter{doc: map[string]any{"servers": map[string]any{"Line 1": "connected", "plc.a$b": "down"}}}
	conn := newFakeConn()
	_, logs := startControl(t, Options{Reporter: rep}, conn)
	get := conn.next(t, "$iothub/twin/GET/")
	conn.send("$iothub/twin/res/200/?$rid="+rid(get.topic), `{"desired":{"$version":1},"reported":{"$version":1,"old":1}}`)

	want := `{"old":null,"servers":{"Line%201":"connected","plc%2Ea%24b":"down"}}`
	start := time.Now()
	for i, status := range []string{"429", "400", "204"} {
		p := conn.next(t, "$iothub/twin/PATCH/properties/reported/")
		if string(p.payload) != want {
			t.Fatalf("patch %d: %s, want %s", i, p.payload, want)
		}
		conn.send("$iothub/twin/res/"+status+"/?$rid="+rid(p.topic), `{"message":"x"}`)
	}
	if d := time.Since(start); d < 2*twinRetryMin {
		t.Errorf("two retries in %v: no backoff", d)
	}
	testenv.Wait(t, 5*time.Second, "the recovery logged", func() bool { return logs.Contains("accepted again") })
	if n := logs.Count("refused; retrying"); n != 1 {
		t.Errorf("the refusal logged %d times, want once per episode", n)
	}
}

// TestDesiredVersions follows the twin's reconnection flow: a patch that
// arrives before the GET's document waits for it, and a patch not newer
// than the applied properties is ignored.
func TestDesiredVersions(t *testing.T) {
	levels := make(chan string, 8)
	o := Options{Reporter: &mapReporter{doc: map[string]any{}}, SetLogLevel: func(l string) error { levels <- l; return nil }}
	conn := newFakeConn()
	startControl(t, o, conn)
	get := conn.next(t, "$iothub/twin/GET/")
	conn.send(twinDesiredPref+"?$version=6", `{"logLevel":"info","$version":6}`) // before the GET's answer
	conn.send("$iothub/twin/res/200/?$rid="+rid(get.topic), `{"desired":{"logLevel":"debug","$version":5},"reported":{}}`)
	conn.send(twinDesiredPref+"?$version=5", `{"logLevel":"warn","$version":5}`)  // the GET's own change, late
	conn.send(twinDesiredPref+"?$version=4", `{"logLevel":"error","$version":4}`) // older still
	conn.send(twinDesiredPref+"?$version=7", `{"logLevel":"debug","$version":7}`)
	var got []string
	for range 3 {
		select {
		case l := <-levels:
			got = append(got, l)
		case <-time.After(5 * time.Second):
			t.Fatalf("levels applied %v, want debug, info, debug", got)
		}
	}
	if strings.Join(got, ",") != "debug,info,debug" {
		t.Errorf("levels applied %v, want debug, info, debug", got)
	}
	select {
	case l := <-levels:
		t.Errorf("stale level %q applied", l)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestTierDetection: a hub that refuses the subscriptions in its SUBACK
// turns methods and the twin off at once; one whose connections end while
// they are set up turns them off after basicTierAfter such connections,
// with one log line; an answered GET resets the count.
func TestTierDetection(t *testing.T) {
	conn := newFakeConn()
	conn.subErr = mqtt.ErrSubscriptionRefused
	d, logs := startControl(t, Options{Reporter: &mapReporter{doc: map[string]any{}}}, conn)
	testenv.Wait(t, 5*time.Second, "telemetry only", func() bool { return logs.Contains("Basic-tier") })

	var tr tier
	for i := range basicTierAfter - 1 {
		tr.controlLost(logs.Logger())
		if i == 0 {
			tr.controlWorks()
		}
	}
	if tr.off {
		t.Fatal("telemetry only before basicTierAfter losses in a row")
	}
	tr.controlLost(logs.Logger())
	tr.controlLost(logs.Logger())
	tr.controlLost(logs.Logger())
	if !tr.off || logs.Count("Basic-tier") != 2 {
		t.Errorf("off %v, %d log lines; want telemetry only, said once per tier", tr.off, logs.Count("Basic-tier"))
	}
	if d.tier.withTwin(logs.Logger()) {
		t.Error("the refused dialect still sets up the twin")
	}
}

// TestNoTwinSubscribesNothing: with NoTwin the control neither subscribes
// nor asks for the twin, and still sends status messages.
func TestNoTwinSubscribesNothing(t *testing.T) {
	conn := newFakeConn()
	conn.subErr = errors.New("must not subscribe")
	_, logs := startControl(t, Options{NoTwin: true, Reporter: &mapReporter{doc: map[string]any{"a": 1}}}, conn)
	p := conn.next(t, "devices/d/messages/events/")
	var status map[string]any
	if err := json.Unmarshal(p.payload, &status); err != nil || status["type"] != "status" {
		t.Errorf("status message %s", p.payload)
	}
	testenv.Wait(t, 5*time.Second, "the opt-out logged", func() bool { return logs.Contains("twin = false") })
	conn.mu.Lock()
	defer conn.mu.Unlock()
	if conn.handle != nil {
		t.Error("subscribed with NoTwin")
	}
}
