package iothub

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
	"factorybridge/internal/testenv/hubsim"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// TestHubUpdate updates a running module publisher through the hub
// stand-in, mid-stream: first its output and batching, which keep the
// connection (the hub sees no disconnect, messages switch to the new
// output), then its identity, which reconnects as the new module. Every
// reading arrives once, and the billable units go on counting.
func TestHubUpdate(t *testing.T) {
	hubLogs := &testenv.Logs{} // mochi logs each disconnect at DEBUG
	h, rec := startHub(t, hubsim.Options{Logger: slog.New(slog.NewTextHandler(hubLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	keyA, keyB := h.AddModule("edge-1", "bridge-a"), h.AddModule("edge-1", "bridge-b")
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(12), 9000))
	opts := moduleOptions(t, h, "bridge-a", keyA, q)
	logger, logs := pubtest.CaptureLogger()
	opts.MQTT.Logger = logger
	p := runPublisher(t, opts)
	q.Append(want[:6000]...)
	waitAcked(t, p, 600)

	opts.Output, opts.MQTT.MaxBatchDelay = "alerts", 20*time.Millisecond
	if err := p.Update(opts); err != nil {
		t.Fatal(err)
	}
	logs.WaitFor(t, 30*time.Second, "publisher settings updated")
	q.WaitAcked(t, q.Append(want[6000:7500]...), 30*time.Second)
	if st := p.Stats(); st.Connections != 1 || st.Reconnects != 0 {
		t.Fatalf("stats after a change of the output: %+v", st)
	}
	if n := disconnects(hubLogs, "edge-1/bridge-a"); n != 0 || len(h.Closes()) != 0 {
		t.Fatalf("the hub saw %d disconnects and closed %v after a change of the output", n, h.Closes())
	}
	units := p.Stats().BillableUnits

	opts.Identity.ModuleID, opts.Signer = "bridge-b", signer(t, keyB)
	if err := p.Update(opts); err != nil {
		t.Fatal(err)
	}
	logs.WaitFor(t, 30*time.Second, "reconnecting: broker/identity changed")
	last := q.Append(want[7500:]...)
	q.WaitAcked(t, last, 30*time.Second)

	msgs, raw := rec.messages()
	pubtest.CheckDelivery(t, msgs, want, 0)
	var seqs []uint64
	for _, m := range msgs {
		for _, r := range m.Readings {
			seqs = append(seqs, r.Seq)
		}
	}
	if err := consumer.CheckDense(last, 0, seqs); err != nil {
		t.Error(err)
	}
	checkSwitches(t, msgs, raw)
	st := p.Stats()
	if st.Connections != 2 || st.Reconnects != 0 || st.BillableUnits <= units {
		t.Errorf("stats after a change of the identity: %+v (billable units before it %d)", st, units)
	}
	if n := disconnects(hubLogs, "edge-1/bridge-a"); n != 1 || !h.Connected("edge-1/bridge-b") {
		t.Errorf("the hub saw bridge-a disconnect %d times, bridge-b connected %v; want once, true", n, h.Connected("edge-1/bridge-b"))
	}
	checkNamesOnly(t, logs, "output", "max_batch_delay", "identity", "credentials")
	t.Logf("stats %+v\n%s", st, logs)
}

// moduleOptions are Options for module of device edge-1 of h.
func moduleOptions(t testing.TB, h *hubsim.Hub, module, key string, q *pubtest.MemQueue) Options {
	mo := testMQTT(t, q)
	mo.MaxMessageBytes, mo.MaxMessagesPerSecond = 4096, 100 // many messages, a backlog when the update comes
	return Options{MQTT: mo, Identity: Identity{HostName: h.HostName(), DeviceID: "edge-1", ModuleID: module},
		Host: "localhost", Port: h.Port(), CAFile: h.CAFile(), Signer: signer(t, key)}
}

func signer(t testing.TB, key string) Signer {
	s, err := NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func waitAcked(t testing.TB, p *Publisher, seq uint64) {
	t.Helper()
	testenv.Wait(t, 30*time.Second, "readings acknowledged", func() bool { return p.Stats().AckedSeq >= seq })
}

// disconnects counts the broker's disconnects of clientID.
func disconnects(logs *testenv.Logs, clientID string) int {
	n := 0
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `msg="client disconnected"`) && strings.Contains(line, " client="+clientID+" ") {
			n++
		}
	}
	return n
}

// checkSwitches checks that the messages went out as bridge-a on its
// default output, then on "alerts", then as bridge-b, each one's readings
// after the last's.
func checkSwitches(t testing.TB, msgs []*wire.Message, raw []hubsim.Message) {
	t.Helper()
	phases := []string{"bridge-a/telemetry", "bridge-a/alerts", "bridge-b/alerts"}
	var lows, highs [3]uint64
	for i, m := range raw {
		k := slices.Index(phases, m.ModuleID+"/"+m.Properties["$.on"])
		if k < 0 {
			t.Fatalf("message from %s/%s on output %q", m.DeviceID, m.ModuleID, m.Properties["$.on"])
		}
		for _, r := range msgs[i].Readings {
			if lows[k] == 0 || r.Seq < lows[k] {
				lows[k] = r.Seq
			}
			highs[k] = max(highs[k], r.Seq)
		}
	}
	for k := range phases {
		if lows[k] == 0 || k > 0 && highs[k-1] >= lows[k] {
			t.Errorf("seqs per phase %v: from %v to %v; want each phase, each after the last", phases, lows, highs)
			return
		}
	}
}

// checkNamesOnly checks that the update lines name the settings and say
// nothing of the key.
func checkNamesOnly(t testing.TB, logs *testenv.Logs, names ...string) {
	t.Helper()
	for _, name := range names {
		if !logs.Contains(name) {
			t.Errorf("no log line names %s:\n%s", name, logs)
		}
	}
	if logs.Contains("SharedAccess") || logs.Contains("sig=") {
		t.Errorf("a credential in the log:\n%s", logs)
	}
}
