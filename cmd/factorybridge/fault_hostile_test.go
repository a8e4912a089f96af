package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
	fbmqtt "factorybridge/publisher/mqtt"
	"factorybridge/publisher/wire"
)

// hostileNodes are the simulator's hostile namespace (testdata/simulator/
// hostile.c), subscribed to by the same server entry, and so the same
// session, as the load counters.
var hostileNodes = []string{"BigString", "BigArray", "InvalidUTF8", "NaN", "PosInf", "NegInf",
	"TypeChanging", "StatusFlipping"}

func writeHostileConfig(t *testing.T, endpoint, broker, proto string, loadNodes int) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[bridge]\nid = \"e2e\"\ndata_dir = %q\n\n[buffer]\ncommit_interval = \"20ms\"\n\n", t.TempDir())
	fmt.Fprintf(&b, "[mqtt]\nbroker = %q\ntopic = \"fb/{bridge}/{line}/{station}\"\nmax_batch_delay = \"20ms\"\nprotocol = %q\n\n", broker, proto)
	fmt.Fprintf(&b, "[[servers]]\nname = \"sim\"\nendpoint = %q\npublishing_interval = \"50ms\"\nsampling_interval = \"0s\"\nqueue_size = 2000\n", endpoint)
	b.WriteString("\n[[lines]]\nname = \"hostile\"\n\n[[lines.stations]]\nname = \"values\"\n")
	for _, n := range hostileNodes {
		fmt.Fprintf(&b, "\n[[lines.stations.nodes]]\nname = %q\nid = \"nsu=urn:factorybridge:hostile;s=hostile.%s\"\n", n, n)
	}
	b.WriteString("\n[[lines]]\nname = \"load\"\n\n[[lines.stations]]\nname = \"counters\"\n")
	for i, id := range testenv.LoadNodeIDs(loadNodes) {
		fmt.Fprintf(&b, "\n[[lines.stations.nodes]]\nname = \"n%d\"\nid = %q\n", i, id)
	}
	path := filepath.Join(t.TempDir(), "bridge.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// recorder keeps every reading of a topic filter by name.
type recorder struct {
	mu   sync.Mutex
	byNm map[string][]fb.Reading
	errs []string
}

func record(t *testing.T, broker, topic string) *recorder {
	t.Helper()
	r := &recorder{byNm: map[string][]fb.Reading{}}
	cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("hostile-recorder"))
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("recorder connect: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	tok := cl.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		msg, err := wire.DecodeMessage(m.Payload())
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.errs = append(r.errs, err.Error())
			return
		}
		for _, rd := range msg.Readings {
			r.byNm[rd.Name] = append(r.byNm[rd.Name], rd)
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("recorder subscribe: %v", tok.Error())
	}
	return r
}

// seqs returns the seqs of every reading recorded.
func (r *recorder) seqs() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []uint64
	for _, rs := range r.byNm {
		for _, rd := range rs {
			out = append(out, rd.Seq)
		}
	}
	return out
}

func (r *recorder) get(node string) []fb.Reading {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]fb.Reading(nil), r.byNm["hostile/values/"+node]...)
}

// TestFaultHostileValues subscribes one session to the hostile nodes and 5
// load counters at 100 changes/s, runs until every counter has 800 values
// (~8 s, 8 changes of each hostile node), and checks the rules of
// docs/faults.md (8): every hostile value is carried or rejected as
// documented, the bridge does not crash or reconnect, the counters
// arrive without a gap or duplicate, and every seq the bridge committed
// arrived except exactly the readings it counted as rejected.
func TestFaultHostileValues(t *testing.T) { forProtocols(t, fbmqtt.Protocol5, faultHostileValues) }

func faultHostileValues(t *testing.T, proto string) {
	const loadNodes, rate, want = 5, 100, 800
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: loadNodes, Rate: rate, Hostile: true})
	broker := testenv.StartMosquitto(t)
	load := consumer.Start(t, broker.URL, consumer.Options{Topic: "fb/e2e/load/#"})
	hostile := record(t, broker.URL, "fb/e2e/hostile/#")
	br := testenv.StartBridge(t, writeHostileConfig(t, sim.Endpoint, broker.URL, proto, loadNodes))
	names := make([]string, loadNodes)
	for i := range names {
		names[i] = testenv.LoadNodeName(i)
	}
	testenv.Wait(t, 90*time.Second, fmt.Sprintf("%d values of each load node", want), func() bool {
		return load.MinCount(names) >= want && len(hostile.get("TypeChanging")) >= 4
	})
	// Every BigString change after the initial "" is rejected and counted;
	// a status line is at most a second old.
	changes := float64(len(hostile.get("BigArray")) - 1) // BigString changes with it
	testenv.Wait(t, 10*time.Second, fmt.Sprintf("a status line counting %v rejected readings", changes), func() bool {
		st := br.Entries("status")
		return len(st) > 0 && st[len(st)-1].Num("rejected") >= changes
	})
	// The hostile phase ends here: stopping the simulator logs "server
	// down", which checkHostile must not find before it.
	logs := br.Logs()
	if err := sim.Stop(); err != nil {
		t.Fatal(err)
	}
	// Once nothing is pending, the status line's rejected count is final:
	// the seqs missing downstream must be exactly those.
	st := waitQuiet(t, br, func(e testenv.LogEntry) bool { return e.Num("buffer_depth") == 0 })
	lastSeq := br.StopDrained(t)
	if a := load.Analyze(names, nil); a.Lost > 0 || a.Dups > 0 || a.Reorders > 0 || len(a.Missing) > 0 || a.Err != nil {
		t.Errorf("load counters on the same session: %v", a)
	}
	if n, errs := load.Errors(); n > 0 {
		t.Errorf("%d bad load messages: %v", n, errs)
	}
	if uint64(st.Num("last_seq")) != lastSeq {
		t.Errorf("last seq %v when quiet, %d at the stop", st.Num("last_seq"), lastSeq)
	}
	t.Logf("last seq %d, %v rejected, %v dropped", lastSeq, st.Num("rejected"), st.Num("dropped"))
	checkDense(t, lastSeq, uint64(st.Num("rejected")+st.Num("dropped")), load.Seqs, hostile.seqs)
	checkHostile(t, hostile, logs)
}

func checkHostile(t *testing.T, rec *recorder, logs string) {
	t.Helper()
	if len(rec.errs) > 0 {
		t.Errorf("undecodable messages: %v", rec.errs[:min(3, len(rec.errs))])
	}
	for _, r := range rec.get("BigString") {
		if r.Value.Str != "" { // the initial value is ""
			t.Errorf("BigString (300 KiB, over max_message_bytes) arrived: %d bytes", len(r.Value.Str))
			break
		}
	}
	checkRejectionLogged(t, rec, logs)
	for _, r := range rec.get("BigArray") {
		if r.Value.Type != fb.TypeNull || r.Status != uint32(ua.StatusBadEncodingLimitsExceeded) {
			t.Errorf("BigArray: %v status %#x, want Null with BadEncodingLimitsExceeded", r.Value, r.Status)
			break
		}
	}
	checkEvery(t, rec, "BigArray", 3, nil)
	checkEvery(t, rec, "InvalidUTF8", 3, func(r fb.Reading) bool {
		return r.Value.Type == fb.TypeString && (r.Value.Str == "" || // the initial value
			strings.HasPrefix(r.Value.Str, "k=") && strings.Contains(r.Value.Str, "\uFFFD"))
	})
	for node, want := range map[string]float64{"NaN": math.NaN(), "PosInf": math.Inf(1), "NegInf": math.Inf(-1)} {
		checkEvery(t, rec, node, 1, func(r fb.Reading) bool {
			f := r.Value.Float()
			return r.Value.Type == fb.TypeDouble && (f == want || math.IsNaN(f) && math.IsNaN(want))
		})
	}
	types := map[fb.Type]bool{}
	for _, r := range rec.get("TypeChanging") {
		types[r.Value.Type] = true
	}
	if !types[fb.TypeInt32] || !types[fb.TypeString] || !types[fb.TypeDouble] {
		t.Errorf("TypeChanging arrived with types %v, want Int32, String and Double", types)
	}
	statuses := map[uint32]bool{}
	for _, r := range rec.get("StatusFlipping") {
		statuses[r.Status] = true
	}
	if !statuses[0] || !statuses[uint32(ua.StatusBadSensorFailure)] {
		t.Errorf("StatusFlipping arrived with statuses %v, want Good and BadSensorFailure", statuses)
	}
	for _, bad := range []string{"server down", "panic", "DATA RACE"} {
		if strings.Contains(logs, bad) {
			t.Errorf("the bridge log has %q", bad)
		}
	}
}

// checkRejectionLogged checks that BigString's rejections were logged once
// for the episode (it never fits again after its initial ""), naming the
// node and the seq of the first rejected reading, which never arrived.
func checkRejectionLogged(t *testing.T, rec *recorder, logs string) {
	t.Helper()
	var lines []testenv.LogEntry
	for line := range strings.Lines(logs) {
		if e := entry(line); e.Msg() == "mqtt: reading too large for a message; skipped" {
			lines = append(lines, e)
		}
	}
	if len(lines) != 1 || lines[0].Str("node") != "hostile/values/BigString" {
		t.Errorf("rejections logged: %v, want one line for hostile/values/BigString", lines)
		return
	}
	seq := uint64(lines[0].Num("seq"))
	if seq == 0 || slices.Contains(rec.seqs(), seq) {
		t.Errorf("the rejected reading's seq %d arrived, or none was logged", seq)
	}
}

// checkEvery checks that node arrived at least least times and that every
// reading satisfies ok (nil: any).
func checkEvery(t *testing.T, rec *recorder, node string, least int, ok func(fb.Reading) bool) {
	t.Helper()
	got := rec.get(node)
	if len(got) < least {
		t.Errorf("%s arrived %d times, want at least %d", node, len(got), least)
		return
	}
	for _, r := range got {
		if ok != nil && !ok(r) {
			t.Errorf("%s: unexpected reading %+v", node, r)
			return
		}
	}
	t.Logf("%s: %d readings, last %v status %#x", node, len(got), got[len(got)-1].Value, got[len(got)-1].Status)
}
