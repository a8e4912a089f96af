package iothub

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/hubsim"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// lineReporter reports servers and lines named as people name them.
type lineReporter struct{ depth atomic.Int64 }

func (r *lineReporter) Status() any      { return map[string]any{"depth": r.depth.Load()} }
func (r *lineReporter) OEE() (any, bool) { return nil, false }
func (r *lineReporter) Reported() any {
	return map[string]any{"servers": map[string]string{"Line 1": "connected", "plc.hall$2": "down"},
		"oee": map[string]any{"Line 1": map[string]any{"oee": 71.5}}, "buffer": map[string]any{"depth": r.depth.Load()}}
}

// TestHubTwinNamesAndRetries: server and line names like "Line 1" are
// valid twin names once encoded (the stand-in refuses them raw, as the hub
// does), and a patch the hub refuses (429, then 500) is sent again with
// backoff until it is accepted.
func TestHubTwinNamesAndRetries(t *testing.T) {
	h, _ := startHub(t, hubsim.Options{})
	rep := &lineReporter{}
	log, logs := pubtest.CaptureLogger()
	opts := deviceOptions(t, h, "names", pubtest.NewMemQueue())
	opts.MQTT.Logger, opts.Reporter, opts.ReportInterval = log, rep, 100*time.Millisecond
	runPublisher(t, opts)
	testenv.Wait(t, 10*time.Second, "the servers reported", func() bool {
		s, _ := h.Reported("names", "")["servers"].(map[string]any)
		return s["Line%201"] == "connected" && s["plc%2Ehall%242"] == "down"
	})
	if o, _ := h.Reported("names", "")["oee"].(map[string]any); o["Line%201"] == nil {
		t.Errorf("reported %v", h.Reported("names", ""))
	}

	h.FailTwin(429, 500)
	rep.depth.Store(9)
	testenv.Wait(t, 15*time.Second, "the refused patch sent again and accepted", func() bool {
		b, _ := h.Reported("names", "")["buffer"].(map[string]any)
		return b["depth"] == float64(9)
	})
	if !logs.Contains("refused; retrying with backoff") || !logs.Contains("accepted again") || len(h.Closes()) > 0 {
		t.Errorf("closes %+v; log:\n%s", h.Closes(), logs.String())
	}
}

// TestHubDesiredStalePatchIgnored: a desired patch the hub delivers after
// a GET returned a newer document is ignored; a newer one is applied.
func TestHubDesiredStalePatchIgnored(t *testing.T) {
	h, _ := startHub(t, hubsim.Options{})
	levels := make(chan string, 8)
	opts := deviceOptions(t, h, "ver", pubtest.NewMemQueue())
	opts.SetLogLevel = func(l string) error { levels <- l; return nil }
	h.SetDesired("ver", "", map[string]any{"logLevel": "debug"})
	runPublisher(t, opts)
	if l := nextLevel(t, levels); l != "debug" {
		t.Fatalf("level %q from the twin, want debug", l)
	}
	h.SendDesiredPatch("ver", "", h.DesiredVersion("ver", ""), map[string]any{"logLevel": "error"})
	h.SetDesired("ver", "", map[string]any{"logLevel": "info"})
	if l := nextLevel(t, levels); l != "info" {
		t.Errorf("level %q applied, want info (the stale patch ignored)", l)
	}
}

func nextLevel(t *testing.T, levels <-chan string) string {
	t.Helper()
	select {
	case l := <-levels:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no log level applied")
		return ""
	}
}

// TestHubBasicTier: a Basic-tier hub closes the connection at the
// methods and twin subscriptions. The bridge takes it for what it is after
// basicTierAfter connections, says so in one line, and publishes telemetry
// only; with NoTwin it never tries and delivers everything exactly once.
func TestHubBasicTier(t *testing.T) {
	for _, noTwin := range []bool{false, true} {
		h, rec := startHub(t, hubsim.Options{Basic: true})
		q := pubtest.NewMemQueue()
		want := pubtest.Readings(pubtest.Nodes(6), 600)
		last := q.Append(want...)
		log, logs := pubtest.CaptureLogger()
		opts := deviceOptions(t, h, "basic", q)
		opts.MQTT.Logger, opts.NoTwin = log, noTwin
		p := runPublisher(t, opts)
		q.WaitAcked(t, last, 30*time.Second)
		msgs, _ := rec.messages()
		basic := 0
		for _, c := range h.Closes() {
			if c.Reason == hubsim.ReasonBasicTier {
				basic++
			}
		}
		if noTwin {
			pubtest.CheckDelivery(t, msgs, pubtest.WithSeqs(want), uint64(len(want)))
			if basic != 0 || !logs.Contains("twin = false") {
				t.Errorf("NoTwin: %d Basic-tier closes; log:\n%s", basic, logs.String())
			}
			continue
		}
		pubtest.CheckDelivery(t, msgs, pubtest.WithSeqs(want), 0)
		if basic != basicTierAfter || logs.Count("a Basic-tier hub has no direct methods") != 1 {
			t.Errorf("%d Basic-tier closes, want %d, and one log line; log:\n%s", basic, basicTierAfter, logs.String())
		}
		if st := p.Stats(); !st.Connected || st.Reconnects != basicTierAfter {
			t.Errorf("stats %+v", st)
		}
		if len(rec.statuses()) == 0 {
			t.Error("no status message on the Basic-tier hub")
		}
	}
}

// TestHubThrottledNoDuplicates: a throttled hub (hub-wide, across two
// devices) queues sends and acknowledges them late, longer than the old
// acknowledgement timeout of two keep-alives (10 s here). The bridge waits
// for the PUBACKs: no reconnect, no resend, no duplicate.
func TestHubThrottledNoDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("about 20 s of throttled sending")
	}
	h, rec := startHub(t, hubsim.Options{Throttle: hubsim.Throttle{PerSecond: 20, Queue: 100000}})
	devices := []string{"a", "b"}
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(8), 5200)) // about 190 messages each
	var pubs []*Publisher
	var queues []*pubtest.MemQueue
	for _, dev := range devices {
		q := pubtest.NewMemQueue()
		q.Append(want...)
		opts := deviceOptions(t, h, dev, q)
		opts.MQTT.KeepAlive, opts.MQTT.MaxInflight, opts.MQTT.MaxMessageBytes = 5*time.Second, 150, 1024
		pubs, queues = append(pubs, runPublisher(t, opts)), append(queues, q)
	}
	for _, q := range queues {
		q.WaitAcked(t, uint64(len(want)), 90*time.Second)
	}
	msgs, raw := rec.messages()
	for _, dev := range devices {
		var mine []*wire.Message
		for i, m := range raw {
			if m.DeviceID == dev {
				mine = append(mine, msgs[i])
			}
		}
		pubtest.CheckDelivery(t, mine, want, uint64(len(want))) // no duplicate
	}
	for _, p := range pubs {
		if st := p.Stats(); st.Reconnects != 0 || st.MessagesSent != st.MessagesAcked {
			t.Errorf("stats %+v", st)
		}
	}
	delayed, maxDelay, refused := h.ThrottleStats()
	if refused > 0 || len(h.Closes()) > 0 || maxDelay < 10*time.Second {
		t.Errorf("refused %d, closes %+v, longest PUBACK delay %v (want over the old 10 s timeout)", refused, h.Closes(), maxDelay)
	}
	t.Logf("%d messages, %d delayed, longest delay %v", len(raw), delayed, maxDelay)
}

// TestNewRefusesLongKeepAlive: the hub times a connection out at 1.5 ×
// the keep-alive, capped at 1,767 s, so a longer keep-alive is refused.
func TestNewRefusesLongKeepAlive(t *testing.T) {
	opts := Options{Identity: identity("h", "d", ""), Token: "x"}
	opts.MQTT = testMQTT(t, pubtest.NewMemQueue())
	opts.MQTT.KeepAlive = MaxKeepAlive + time.Second
	if _, err := New(opts); err == nil || !strings.Contains(err.Error(), "keep_alive") {
		t.Errorf("New with keep_alive %v: %v", opts.MQTT.KeepAlive, err)
	}
	opts.MQTT.KeepAlive = MaxKeepAlive
	if _, err := New(opts); err != nil {
		t.Error(err)
	}
}
