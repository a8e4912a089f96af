package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

// The line runs 50 times faster than real time: a 4–11 s cycle takes
// 80–220 ms. Faults are stretched 5 times, to 1–6 s, so that one can
// outlast a bridge restart. The part counters are UInt16 starting 50 below
// the top, and are reset 750 simulated seconds (15 s) after the start, close
// to the wrap.
const (
	oeeSpeed        = 50
	oeeIdealS       = 0.080 // ideal_cycle_time: the fastest station's ideal at speed 50
	oeeFaultScale   = 5
	oeeSmallStop    = 2 * time.Second // faults of 1–2 s are small stops
	oeeCounterStart = 65536 - 50
	oeeResetAt      = 750 * time.Second // simulated
	oeePhase        = 10 * time.Second
	oeeKillFault    = 4 * time.Second         // a fault at least this long is killed in …
	oeeKillInto     = 1500 * time.Millisecond // … this far into it, and the bridge …
	oeeDownFor      = time.Second             // … started again this much later
	oeeInFlight     = 200 * time.Millisecond  // readings not yet committed at a kill, or published at a stop
	oeeUnknownSlack = 300 * time.Millisecond  // per gap, between the bridge's unknown time and the test's
	oeeTolerance    = 0.005                   // ±0.5 percentage points
	oeeWaitRecord   = 30 * time.Second
)

var oeeStations = []string{"assembly", "test", "packaging"}

func writeOEEConfig(t *testing.T, endpoint, broker string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[bridge]\nid = \"oee-it\"\ndata_dir = %q\n\n[buffer]\ncommit_interval = \"20ms\"\n\n", t.TempDir())
	fmt.Fprintf(&b, "[mqtt]\nbroker = %q\nmax_batch_delay = \"20ms\"\n\n", broker)
	fmt.Fprintf(&b, "[[servers]]\nname = \"plc\"\nendpoint = %q\npublishing_interval = \"50ms\"\nsampling_interval = \"0s\"\nqueue_size = 1000\n", endpoint)
	b.WriteString("\n[[lines]]\nname = \"line1\"\n[lines.oee]\ninterval = \"1s\"\nwindow = \"5m\"\n")
	for _, st := range oeeStations {
		fmt.Fprintf(&b, "\n[[lines.stations]]\nname = %q\nserver = \"plc\"\nnodes = [\n", st)
		for _, v := range []string{"Status", nodeGood, nodeBad, "StopReason"} {
			fmt.Fprintf(&b, "  { name = %q, id = \"nsu=http://opcfoundation.org/UA/Station/;s=%s.%s\" },\n", v, st, v)
		}
		fmt.Fprintf(&b, "]\n[lines.stations.oee]\npreset = \"connected-factory\"\nideal_cycle_time = \"%dms\"\nsmall_stop = %q\n",
			int(oeeIdealS*1000), oeeSmallStop)
		b.WriteString("counters = { good_count = \"uint16\", reject_count = \"uint16\" }\n")
		b.WriteString("roles = { state = \"Status\", good_count = \"NumberOfManufacturedProducts\", reject_count = \"NumberOfDiscardedProducts\", stop_reason = \"StopReason\" }\n")
		b.WriteString("reasons = [{ code = \"1\", name = \"jam\", loss = \"breakdown\" }, { code = \"2\", name = \"tool\" },\n" +
			"  { code = \"3\", name = \"material\", loss = \"material_shortage\" }]\n")
	}
	path := filepath.Join(t.TempDir(), "oee.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOEEMatchesGroundTruth runs the simulator's line with 16-bit counters
// reset close to the wrap, kills the bridge with -9 inside a fault that
// outlasts the restart, and restarts the simulator (a PLC restart: its
// counters start at zero). It compares the bridge's published shift-to-date
// records with the simulator's truth log over the same window, outside the
// spans the test made the bridge blind: counts exactly, A, P, Q and OEE
// within ±0.5 pp per station and for the line, stop time and stops per
// reason. Every part the simulator made must have reached the broker unless
// it was made where the test shows it could not have.
func TestOEEMatchesGroundTruth(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	truthPath := filepath.Join(t.TempDir(), "truth.jsonl")
	simOpts := testenv.SimOptions{Speed: oeeSpeed, Seed: 7, Truth: truthPath, CounterBits: 16,
		CounterStart: oeeCounterStart, ResetAt: oeeResetAt, FaultScale: oeeFaultScale}
	sim := testenv.StartSimulator(t, simOpts)
	log := subscribeOEE(t, broker.URL)
	br := testenv.StartBridge(t, writeOEEConfig(t, sim.Endpoint, broker.URL))
	log.waitRecordAfter(t, time.Now().Add(2*time.Second)) // states known, records flowing
	sc := scenario{warm: time.Now()}
	testenv.Wait(t, oeeWaitRecord, "the counter reset", func() bool { return resets(readTruth(t, truthPath)) == 3 })
	killInFault(t, br, truthPath, &sc)
	br.WaitLog(t, "oee: server data resumes", oeeWaitRecord)
	time.Sleep(oeePhase) // production: nothing to wait for but the clock
	br.Mark()
	sc.simStopAt = time.Now()
	if err := sim.Stop(); err != nil {
		t.Fatal(err)
	}
	simOpts.CounterStart, simOpts.ResetAt = 0, 0
	sim.Reconfigure(simOpts)
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	sc.simStartAt = time.Now()
	br.WaitLog(t, "oee: server data resumes", oeeWaitRecord)
	time.Sleep(oeePhase)
	lastSeq := br.StopDrained(t)
	if err := sim.Stop(); err != nil {
		t.Fatal(err)
	}
	truth := readTruth(t, truthPath)
	logResets(t, truth)
	compareWithTruth(t, log, truth, sc)
	// Readings and OEE records share the buffer's sequence; across the kill
	// and the restarts nothing committed went missing (a kill loses only
	// readings not yet committed, which never had a seq; nothing was dropped
	// or rejected).
	checkDense(t, lastSeq, 0, log.seqsOf(&log.readingSeqs), log.seqsOf(&log.recordSeqs))
}

// killInFault waits for a fault that lasts at least oeeKillFault, kills the
// bridge oeeKillInto into it and starts it again oeeDownFor later: each part
// of the fault the bridge sees may be shorter than the small-stop threshold,
// the fault is not.
func killInFault(t *testing.T, br *testenv.Bridge, truthPath string, sc *scenario) {
	t.Helper()
	after := time.Now().UnixNano()
	testenv.Wait(t, 2*time.Minute, "a fault long enough to kill the bridge in", func() bool {
		for st, evs := range readTruth(t, truthPath) {
			for _, e := range evs {
				long := time.Duration(e.FaultLen)*time.Millisecond/oeeSpeed >= oeeKillFault
				if e.Event == "state" && e.Status == 4 && long && e.T > after &&
					time.Since(time.Unix(0, e.T)) < oeeKillInto/2 {
					sc.killedStation, sc.killedFault = st, e.T
					return true
				}
			}
		}
		return false
	})
	time.Sleep(time.Until(time.Unix(0, sc.killedFault).Add(oeeKillInto)))
	sc.killAt = time.Now()
	br.Kill()
	time.Sleep(oeeDownFor)
	sc.restartAt = time.Now()
	br.Start()
}

// logResets shows what the counters read when they were reset.
func logResets(t *testing.T, truth map[string][]truthEvent) {
	for st, evs := range truth {
		for i, e := range evs {
			if e.Event == "reset" && i > 0 {
				p := evs[i-1]
				t.Logf("%s: counters reset at good %d, reject %d (%d and %d parts made)", st, p.GoodNode, p.BadNode, p.Good, p.Bad)
			}
		}
	}
}

func resets(truth map[string][]truthEvent) int {
	n := 0
	for _, evs := range truth {
		for _, e := range evs {
			if e.Event == "reset" {
				n++
			}
		}
	}
	return n
}

// compareWithTruth compares every station and the line over the window.
func compareWithTruth(t *testing.T, l *oeeLog, truth map[string][]truthEvent, sc scenario) {
	t.Helper()
	unknown, excuses := sc.gaps(t, l)
	sc.checkKilledFault(t, truth, unknown[0])
	win := l.window(t, truth, sc.warm)
	excused := func(at int64) bool { return inside(at, excuses) }
	var line lineSum
	for i, st := range oeeStations {
		d := l.delta(t, st, win)
		var tt truthTally
		tt.tallyTime(truth[st], win, unknown)
		for _, e := range tt.tallyParts(l, st, parts(truth[st]), win, unknown, excused) {
			t.Error(e)
		}
		check(t, stationScope(st, d, tt))
		checkReasons(t, st, d, tt)
		checkUnknown(t, st, d, win, unknown)
		if d.resets < 2 {
			t.Errorf("%s: %d counter resets in the window, want the good and the reject counter's", st, d.resets)
		}
		line.add(i == len(oeeStations)-1, tt)
	}
	check(t, line.scope(l.delta(t, "", win), l.lineP(t, win)))
}

// delta is station's ("" for the line) records over win.
func (l *oeeLog) delta(t *testing.T, station string, win span) delta {
	t.Helper()
	r0, ok0 := l.shiftToDate(station, time.Unix(0, win.from))
	r2, ok2 := l.shiftToDate(station, time.Unix(0, win.to))
	if !ok0 || !ok2 {
		t.Fatalf("station %q: no record at the window's ends", station)
	}
	return deltaOf(r0, r2)
}

// lineP is the line's performance over win from its records: P times
// operating time is the ideal work, which differences like the times.
func (l *oeeLog) lineP(t *testing.T, win span) float64 {
	r0, _ := l.shiftToDate("", time.Unix(0, win.from))
	r2, _ := l.shiftToDate("", time.Unix(0, win.to))
	if r0.Performance == nil || r2.Performance == nil {
		t.Fatal("line performance undefined")
	}
	op := func(r oeeRecord) float64 { return r.RunS + r.SmallStopS }
	return (*r2.Performance*op(r2) - *r0.Performance*op(r0)) / (op(r2) - op(r0))
}

// lineSum sums the stations' truth as docs/oee.md rolls a line up: times,
// rejects and ideal work summed, good from the output (last) station.
type lineSum struct {
	runS, smallS, unplannedS, idealParts float64
	good, bad, gap, lost                 int64
}

func (s *lineSum) add(output bool, tt truthTally) {
	s.runS += tt.runS
	s.smallS += tt.smallS
	s.unplannedS += tt.unplannedS
	s.idealParts += float64(tt.good + tt.bad - tt.gap)
	s.bad += tt.bad
	s.gap += tt.gap
	s.lost += tt.lost
	if output {
		s.good = tt.good
	}
}

func (s *lineSum) scope(d delta, p float64) scope {
	b := stationScope("line", d, truthTally{})
	b.bridge.p = p
	b.gapTruth, b.lost = s.gap, s.lost
	op := s.runS + s.smallS
	b.truth = figures{total: s.good + s.bad, good: s.good, reject: s.bad,
		a: op / (op + s.unplannedS), p: oeeIdealS * s.idealParts / op, q: float64(s.good) / float64(s.good+s.bad)}
	return b
}
