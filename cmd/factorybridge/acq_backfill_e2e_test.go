package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
)

// msgGapFilled is the OEE runner's log line when a gap became known.
const msgGapFilled = "oee: gap filled from history; its time is known again"

// writeBackfillConfig is the OEE line of writeOEEConfig, every node with
// backfill, and three load counters with backfill, on a server behind a
// proxy.
func writeBackfillConfig(t *testing.T, endpoint, broker string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[bridge]\nid = \"bf\"\ndata_dir = %q\n\n[buffer]\ncommit_interval = \"20ms\"\n\n", t.TempDir())
	fmt.Fprintf(&b, "[mqtt]\nbroker = %q\nmax_batch_delay = \"20ms\"\n\n", broker)
	fmt.Fprintf(&b, "[[servers]]\nname = \"plc\"\nendpoint = %q\npublishing_interval = \"50ms\"\nsampling_interval = \"0s\"\n", endpoint)
	b.WriteString("queue_size = 1000\nrequest_timeout = \"2s\"\nbackfill = true\n")
	b.WriteString("\n[[lines]]\nname = \"line1\"\n[lines.oee]\ninterval = \"1s\"\nwindow = \"5m\"\n")
	for _, st := range oeeStations {
		fmt.Fprintf(&b, "\n[[lines.stations]]\nname = %q\nnodes = [\n", st)
		for _, v := range []string{"Status", "NumberOfManufacturedProducts", "NumberOfDiscardedProducts"} {
			fmt.Fprintf(&b, "  { name = %q, id = \"%s%s.%s\" },\n", v, simStation, st, v)
		}
		fmt.Fprintf(&b, "]\n[lines.stations.oee]\npreset = \"connected-factory\"\nideal_cycle_time = \"%dms\"\nsmall_stop = \"0s\"\n",
			int(oeeIdealS*1000))
		b.WriteString("roles = { state = \"Status\", good_count = \"NumberOfManufacturedProducts\", reject_count = \"NumberOfDiscardedProducts\" }\n")
	}
	b.WriteString("\n[[lines]]\nname = \"load\"\n\n[[lines.stations]]\nname = \"counters\"\nnodes = [\n")
	for i := range 3 {
		fmt.Fprintf(&b, "  { name = \"n%d\", id = \"%s%d\" },\n", i, simLoad, i)
	}
	b.WriteString("]\n")
	return writeConfig(t, b.String())
}

// TestBackfillE2E cuts the bridge's connection to a historizing server for
// at least 30 s, then kills the bridge (kill -9) for a while: after each gap
// every historized value of the gap arrives exactly once, marked, in order
// per node, and the OEE of a window spanning both gaps equals the
// simulator's ground truth with no unknown time: the gaps are known from
// history (docs/oee.md, "Gaps filled from history").
func TestBackfillE2E(t *testing.T) {
	cut, down := scaled(30*time.Second, 120*time.Second), scaled(10*time.Second, 60*time.Second)
	truthPath := filepath.Join(t.TempDir(), "truth.jsonl")
	sim := testenv.StartSimulator(t, testenv.SimOptions{Speed: oeeSpeed, Seed: 7, Truth: truthPath, LoadNodes: 3, Rate: 10, History: true})
	proxy, endpoint := proxyTo(t, sim)
	broker := testenv.StartMosquittoWith(t, testenv.MosquittoOptions{Persistence: true})
	log := subscribeOEE(t, broker.URL)
	cons := consumer.Start(t, broker.URL, consumer.Options{Topic: "factorybridge/bf/load/readings", Persistent: true})
	br := testenv.StartBridge(t, writeBackfillConfig(t, endpoint, broker.URL))
	log.waitRecordAfter(t, time.Now().Add(2*time.Second))
	warm := time.Now()
	time.Sleep(oeePhase) // production: nothing to wait for but the clock

	cutFrom, cutTo := cutFor(proxy, cut)
	br.WaitLog(t, msgGapFilled, 2*testenv.BridgeStopTimeout) // the reconnect back-off reaches 30 s
	time.Sleep(oeePhase)

	br.Kill()
	killed := time.Now()
	time.Sleep(down) // the bridge is down: the gap
	restarted := time.Now()
	br.Start()
	br.WaitLog(t, msgGapFilled, oeeWaitRecord)
	time.Sleep(oeePhase)
	lastSeq := br.StopDrained(t)
	if err := sim.Stop(); err != nil {
		t.Fatal(err)
	}

	names := []string{"load/counters/n0", "load/counters/n1", "load/counters/n2"}
	checkBackfilled(t, cons, names, [][2]time.Time{{cutFrom, cutTo}, {killed, restarted}})
	checkKnownWithTruth(t, log, readTruth(t, truthPath), warm)
	checkDense(t, lastSeq, 0, log.seqsOf(&log.readingSeqs), log.seqsOf(&log.recordSeqs))
	t.Logf("cut %s, bridge down %s; %d gap revisions logged", cutTo.Sub(cutFrom).Round(time.Second),
		restarted.Sub(killed).Round(time.Second), len(br.Entries(msgGapFilled)))
}

// checkBackfilled checks that every value of the load counters arrived
// exactly once (a copy resent after the kill carries its seq) and in order,
// and that each gap's values came from history, marked.
func checkBackfilled(t *testing.T, cons *consumer.Consumer, names []string, gaps [][2]time.Time) {
	t.Helper()
	testenv.Wait(t, denseWait, "the last counter values", func() bool { return cons.MinCount(names) > 0 })
	a := cons.Analyze(names, nil)
	if a.Lost > 0 || a.SeqMismatch > 0 || a.Reorders > 0 || len(a.Missing) > 0 || a.Err != nil {
		t.Errorf("want every value exactly once and in order: %v", a)
	}
	for _, n := range names {
		for _, g := range gaps {
			live, filled := 0, 0
			for _, s := range cons.Samples(n) {
				if s.Source < g[0].UnixMilli()+500 || s.Source > g[1].UnixMilli()-500 {
					continue // the seams: the last live value before, the first after
				}
				if s.Class == fb.ClassBackfill {
					filled++
				} else {
					live++
				}
			}
			want := int(g[1].Sub(g[0]).Seconds()-1) * 10 * 9 / 10
			if live > 0 || filled < want {
				t.Errorf("%s: gap %s–%s: %d values backfilled (want at least %d), %d live", n,
					g[0].Format(time.StampMilli), g[1].Format(time.StampMilli), filled, want, live)
			}
		}
	}
	t.Log(a)
}

// checkKnownWithTruth compares, per station and for the line, the
// shift-to-date records over the window (oeeLog.window) with the truth: the
// gaps are known time (no unknown time and no gap parts in the window), so
// the whole truth counts, and every part reached the broker (the parts of
// the gaps as backfilled readings).
func checkKnownWithTruth(t *testing.T, l *oeeLog, truth map[string][]truthEvent, warm time.Time) {
	t.Helper()
	win := l.window(t, truth, warm)
	never := func(int64) bool { return false }
	var line lineSum
	for i, st := range oeeStations {
		d := l.delta(t, st, win)
		if d.unknown != 0 || d.gap != 0 {
			t.Errorf("%s: %v s unknown and %d gap parts in the window; want none, the gaps are filled", st, d.unknown, d.gap)
		}
		tt := truthTally{noSmallStops: true} // the config's small_stop = "0s"
		tt.tallyTime(truth[st], win, nil)
		for _, e := range tt.tallyParts(l, st, parts(truth[st]), win, nil, never) {
			t.Error(e)
		}
		check(t, stationScope(st, d, tt))
		line.add(i == len(oeeStations)-1, tt)
	}
	check(t, line.scope(l.delta(t, "", win), l.lineP(t, win)))
}
