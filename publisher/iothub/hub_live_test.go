package iothub

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/hubsim"
	"factorybridge/publisher/internal/pubtest"
)

// produce appends readings at about perSecond until ctx ends, as a line
// would, and returns the readings appended (in seq order).
func produce(ctx context.Context, q *pubtest.MemQueue, perSecond int) <-chan []factorybridge.Reading {
	out := make(chan []factorybridge.Reading, 1)
	go func() {
		nodes := pubtest.Nodes(20)
		var all []factorybridge.Reading
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; {
			select {
			case <-ctx.Done():
				out <- all
				return
			case <-t.C:
			}
			batch := pubtest.Readings(nodes, i+perSecond/100)[i:]
			i += len(batch)
			q.Append(batch...)
			all = append(all, batch...)
		}
	}()
	return out
}

// TestHubTokenRenewalUnderLoad runs 15-second tokens for two minutes (20 s
// in short mode) under load: every token is renewed before the hub closes
// the connection at its expiry, every reading is delivered, and a renewal
// adds no duplicates (the window is emptied before reconnecting).
func TestHubTokenRenewalUnderLoad(t *testing.T) {
	t.Parallel()
	run := 2 * time.Minute
	if testing.Short() || os.Getenv("FACTORYBRIDGE_HUB_RENEWAL_SHORT") != "" {
		run = 20 * time.Second
	}
	h, rec := startHub(t, hubsim.Options{})
	q := pubtest.NewMemQueue()
	opts := deviceOptions(t, h, "renew", q)
	opts.TokenLifetime = 15 * time.Second
	p := runPublisher(t, opts)
	ctx, stop := context.WithTimeout(context.Background(), run)
	defer stop()
	want := <-produce(ctx, q, 1000)
	q.WaitAcked(t, uint64(len(want)), 30*time.Second)
	msgs, _ := rec.messages()
	pubtest.CheckDelivery(t, msgs, pubtest.WithSeqs(want), uint64(len(want)))
	st := p.Stats()
	if minRenewals := uint64(run / (12 * time.Second)); st.TokenRenewals < minRenewals {
		t.Errorf("%d token renewals in %v of 15 s tokens, want at least %d", st.TokenRenewals, run, minRenewals)
	}
	for _, c := range h.Closes() {
		t.Errorf("the hub closed a connection: %+v", c)
	}
	if st.Reconnects != 0 {
		t.Errorf("%d reconnects besides renewals", st.Reconnects)
	}
	t.Logf("%d readings in %d messages, %d renewals", len(want), len(msgs), st.TokenRenewals)
}

// TestHubThrottledNothingLost: the hub drops the connection when a device
// sends more than 20 messages/s, as IoT Hub does when throttling. The
// bridge backs off, reconnects and delivers everything; with the send-rate
// cap set below the throttle, the hub never has to close the connection.
func TestHubThrottledNothingLost(t *testing.T) {
	for _, tc := range []struct {
		name string
		cap  float64
	}{{"no cap", 0}, {"capped at 15/s", 15}} {
		t.Run(tc.name, func(t *testing.T) {
			h, rec := startHub(t, hubsim.Options{MaxMessagesPerSecond: 20})
			q := pubtest.NewMemQueue()
			want := pubtest.Readings(pubtest.Nodes(10), 4000)
			last := q.Append(want...)
			opts := deviceOptions(t, h, "busy", q)
			opts.MQTT.MaxMessageBytes = 4096 // ~60 messages
			opts.MQTT.MaxMessagesPerSecond = tc.cap
			p := runPublisher(t, opts)
			q.WaitAcked(t, last, 60*time.Second)
			msgs, raw := rec.messages()
			throttled := 0
			for _, c := range h.Closes() {
				if c.Reason == hubsim.ReasonThrottled {
					throttled++
				}
			}
			if tc.cap == 0 {
				pubtest.CheckDelivery(t, msgs, pubtest.WithSeqs(want), 0) // resends allowed
				if throttled == 0 || p.Stats().Reconnects == 0 {
					t.Errorf("throttled %d times, %d reconnects: the test did not throttle", throttled, p.Stats().Reconnects)
				}
			} else {
				pubtest.CheckDelivery(t, msgs, pubtest.WithSeqs(want), uint64(len(want)))
				if throttled > 0 {
					t.Errorf("throttled %d times with the cap below the hub's limit", throttled)
				}
			}
			t.Logf("%d messages, %d throttle closes", len(raw), throttled)
		})
	}
}

// statusReporter is a Reporter for the methods and twin test.
type statusReporter struct{ depth atomic.Int64 }

func (r *statusReporter) Status() any { return map[string]any{"depth": r.depth.Load()} }
func (r *statusReporter) OEE() (any, bool) {
	return nil, false
}
func (r *statusReporter) Reported() any {
	return map[string]any{"version": "test", "buffer": map[string]any{"depth": r.depth.Load()}}
}

func TestHubMethodsAndTwin(t *testing.T) {
	h, rec := startHub(t, hubsim.Options{})
	q := pubtest.NewMemQueue()
	q.Append(pubtest.Readings(pubtest.Nodes(10), 200000)...) // a backlog drains meanwhile
	levels := make(chan string, 4)
	rep := &statusReporter{}
	rep.depth.Store(7)
	log, logs := pubtest.CaptureLogger()
	opts := deviceOptions(t, h, "ctl", q)
	opts.MQTT.Logger = log
	opts.Reporter = rep
	opts.ReportInterval = 200 * time.Millisecond
	opts.SetLogLevel = func(l string) error {
		if l != "debug" && l != "info" {
			return errors.New("bad level")
		}
		levels <- l
		return nil
	}
	h.SetDesired("ctl", "", map[string]any{"logLevel": "debug", "sampling": 5})
	opts.MQTT.MaxMessageBytes = 8192
	runPublisher(t, opts)

	// Desired properties set while offline arrive with the twin GET.
	select {
	case l := <-levels:
		if l != "debug" {
			t.Errorf("log level %q from the twin, want debug", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("desired logLevel not applied after connecting")
	}
	testenv.Wait(t, 5*time.Second, "the ignored property logged", func() bool {
		return logs.Contains("desired properties ignored") && logs.Contains("sampling")
	})
	h.SetDesired("ctl", "", map[string]any{"logLevel": "info"})
	select {
	case l := <-levels:
		if l != "info" {
			t.Errorf("log level %q from a desired patch, want info", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("desired patch not applied")
	}

	ctx := context.Background()
	testenv.Wait(t, 10*time.Second, "the backlog to start draining", func() bool { return q.AckCount() > 0 })
	for _, tc := range []struct {
		method     string
		wantStatus int
		wantBody   string
	}{
		{"GetStatus", 200, `"depth":7`},
		{"GetOEE", 200, `"configured":false`},
		{"Reboot", 404, `unknown method \"Reboot\"`},
	} {
		start := time.Now()
		status, body, err := h.Invoke(ctx, "ctl", "", tc.method, []byte(`{}`), 5*time.Second)
		if err != nil || status != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
			t.Errorf("%s: status %d body %s err %v; want %d with %s", tc.method, status, body, err, tc.wantStatus, tc.wantBody)
		}
		if q.Depth() == 0 {
			t.Fatal("the backlog drained before the methods were called; make it larger")
		}
		t.Logf("%s answered in %v while %d readings were still buffered (acked %d)", tc.method, time.Since(start), q.Depth(), q.AckCount())
	}

	rep.depth.Store(42)
	testenv.Wait(t, 5*time.Second, "reported depth 42", func() bool {
		b, _ := h.Reported("ctl", "")["buffer"].(map[string]any)
		return b != nil && b["depth"] == float64(42)
	})
	if h.Reported("ctl", "")["version"] != "test" {
		t.Errorf("reported %v", h.Reported("ctl", ""))
	}
	testenv.Wait(t, 5*time.Second, "a status message with depth 42", func() bool {
		for _, m := range rec.statuses() {
			if strings.Contains(string(m.Payload), `"status":{"depth":42}`) && m.Properties["bridge"] == "bridge-1" {
				return true
			}
		}
		return false
	})
}

// TestHubEdgeModule runs module mode from the IoT Edge environment as
// edgeAgent sets it (hubsim.Workload.Env cites the source): the
// identity from IOTEDGE_*, tokens signed by the workload API (no key in the
// bridge), edgeHub verified with the workload's trust bundle.
func TestHubEdgeModule(t *testing.T) {
	h, rec := startHub(t, hubsim.Options{})
	w := hubsim.StartWorkload(t, hubsim.WorkloadOptions{Hub: h})
	env := w.Env("edge-dev", "factorybridge")
	q := pubtest.NewMemQueue()
	opts := Options{MQTT: testMQTT(t, q), Port: h.Port(), Output: "telemetry", TokenLifetime: time.Hour}
	desc, err := opts.Resolve("", EdgeAuto, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := opts.Signer.(*Workload); !ok || opts.TrustBundle == nil {
		t.Fatalf("module mode without the workload API: %s", desc)
	}
	want := pubtest.Readings(pubtest.Nodes(4), 300)
	last := q.Append(want...)
	runPublisher(t, opts)
	q.WaitAcked(t, last, 30*time.Second)
	msgs, raw := rec.messages()
	pubtest.CheckDelivery(t, msgs, pubtest.WithSeqs(want), uint64(len(want)))
	if raw[0].ModuleID != "factorybridge" || raw[0].Properties["$.on"] != "telemetry" {
		t.Errorf("message from %s/%s with %v", raw[0].DeviceID, raw[0].ModuleID, raw[0].Properties)
	}
	if w.SignCalls() == 0 {
		t.Error("the workload API signed nothing")
	}
}

// TestHubEdgeHubConnectionString runs module mode as IoT Edge may
// configure it instead of the workload API: EdgeHubConnectionString, with
// edgeHub's CA in EdgeModuleCACertificateFile and no iothub.ca_file. Without
// the CA variable the gateway is not trusted.
func TestHubEdgeHubConnectionString(t *testing.T) {
	h, rec := startHub(t, hubsim.Options{})
	w := hubsim.StartWorkload(t, hubsim.WorkloadOptions{Hub: h})
	env := w.ConnectionStringEnv("edge-cs", "factorybridge")
	q := pubtest.NewMemQueue()
	opts := Options{MQTT: testMQTT(t, q), Port: h.Port()}
	if _, err := opts.Resolve("", EdgeAuto, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	last := q.Append(pubtest.Readings(pubtest.Nodes(3), 100)...)
	runPublisher(t, opts)
	q.WaitAcked(t, last, 30*time.Second)
	if _, raw := rec.messages(); raw[0].ModuleID != "factorybridge" {
		t.Errorf("message from %s/%s", raw[0].DeviceID, raw[0].ModuleID)
	}

	delete(env, "EdgeModuleCACertificateFile")
	q2 := pubtest.NewMemQueue()
	q2.Append(pubtest.Readings(pubtest.Nodes(3), 10)...)
	log, logs := pubtest.CaptureLogger()
	opts2 := Options{MQTT: testMQTT(t, q2), Port: h.Port()}
	opts2.MQTT.Logger = log
	if _, err := opts2.Resolve("", EdgeAuto, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	runPublisher(t, opts2)
	logs.WaitFor(t, 10*time.Second, "certificate signed by unknown authority")
}
