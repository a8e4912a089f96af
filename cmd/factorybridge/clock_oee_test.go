package main

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

// clockCase is a PLC clock the bridge's OEE is compared with the truth
// under: the simulator runs under libfaketime.
type clockCase struct {
	name   string
	fake   string // libfaketime's offset at the start
	stepTo string // when set, the PLC's clock is set to this offset while it runs
}

// clockCases are the clocks of docs/clocks.md's tests. Without
// FACTORYBRIDGE_FAULT_FULL=1 only the first runs: a PLC two hours behind,
// which gopcua could not even connect to.
var clockCases = []clockCase{
	{name: "2h-behind", fake: "-2h"},
	{name: "2h-ahead", fake: "+2h"},
	{name: "10min-behind", fake: "-10m"},
	{name: "set-forward-1h", fake: "+0", stepTo: "+1h"},
}

const (
	clockWarning     = "server clock differs from the bridge's"
	clockChanged     = "server clock offset changed"
	clockShiftMargin = 25 * time.Second // least time from the start to the shift's end
	clockStepAfter   = 3 * time.Second  // production before the PLC's clock is set
)

// TestOEEOnRealClock runs the simulator's line with the PLC's clock off
// and compares the bridge's OEE with the simulator's truth log, its times
// moved onto the real clock: the bridge connects, warns once, and its
// shift-to-date, rolling and closed shift records sit on the real clock
// with the truth's counts and ratios within ±0.5 pp. A calendar of one
// shift ending at a minute boundary 25–85 s after the start gives a
// closed record in each run.
func TestOEEOnRealClock(t *testing.T) {
	for i, c := range clockCases {
		t.Run(c.name, func(t *testing.T) {
			if i > 0 && !testenv.FaultFull() {
				t.Skip("FACTORYBRIDGE_FAULT_FULL=1 runs every clock; CI runs the first")
			}
			runClockCase(t, c)
		})
	}
}

func runClockCase(t *testing.T, c clockCase) {
	broker := testenv.StartMosquitto(t)
	truthPath := t.TempDir() + "/truth.jsonl"
	sim := testenv.StartSimulator(t, testenv.SimOptions{Speed: oeeSpeed, Seed: 11, Truth: truthPath,
		CounterBits: 16, FaultScale: oeeFaultScale, FakeTime: c.fake})
	start := time.Now()
	shift := oneShift(start)
	log := subscribeOEE(t, broker.URL)
	br := testenv.StartBridge(t, writeClockConfig(t, sim.Endpoint, broker.URL, shift))
	log.waitRecordAfter(t, time.Now().Add(2*time.Second))
	warm := time.Now()
	var stepAt time.Time
	if c.stepTo != "" {
		time.Sleep(clockStepAfter) // production: nothing to wait for but the clock
		stepAt = time.Now()
		if err := sim.SetFakeTime(c.stepTo); err != nil {
			t.Fatal(err)
		}
		br.WaitLog(t, clockWarning, oeeWaitRecord)
	}
	closed := log.waitRecord(t, "shift", "", time.Unix(0, shift.to), time.Until(time.Unix(0, shift.to))+oeeWaitRecord)
	br.StopDrained(t)
	if err := sim.Stop(); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	checkWarnedOnce(t, br)
	checkOnRealClock(t, log, span{start.UnixNano(), end.UnixNano()}, shift, closed)
	truth := log.onBridgeClock(t, readTruth(t, truthPath))
	win := log.window(t, truth, warm)
	t.Logf("shift %s–%s; compared live from %s to %s and closed to the shift's end", clockOf(shift.from),
		clockOf(shift.to), clockOf(win.from), clockOf(win.to))
	if !stepAt.IsZero() && !win.has(stepAt.UnixNano()) {
		t.Fatalf("the clock was set at %s, outside the compared window; raise clockStepAfter", clockOf(stepAt.UnixNano()))
	}
	compareSpan(t, log, truth, win, false, func(st string) oeeRecord {
		r, _ := log.shiftToDate(st, time.Unix(0, win.to))
		return r
	})
	compareRolling(t, log, win)
	compareSpan(t, log, truth, span{win.from, shift.to}, true, func(st string) oeeRecord {
		r, _ := log.recordOf("shift", st, time.Unix(0, shift.to))
		return r
	})
	if c.stepTo != "" {
		checkStepFlagged(t, log, shift)
	}
}

// oneShift is a shift from the minute the test starts in to the first
// minute boundary at least clockShiftMargin after it.
func oneShift(start time.Time) span {
	from := start.UTC().Truncate(time.Minute)
	to := start.Add(clockShiftMargin).UTC().Truncate(time.Minute).Add(time.Minute)
	return span{from.UnixNano(), to.UnixNano()}
}

func clockOf(ns int64) string { return time.Unix(0, ns).UTC().Format("15:04:05.000") }

// writeClockConfig is writeOEEConfig with the flat encoding, whose bridge
// times have full precision, and a UTC calendar of the one shift.
func writeClockConfig(t *testing.T, endpoint, broker string, shift span) string {
	t.Helper()
	path := writeOEEConfig(t, endpoint, broker)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hhmm := func(ns int64) string { return time.Unix(0, ns).UTC().Format("15:04") }
	s := strings.Replace(string(b), "[mqtt]\n", "[mqtt]\nencoding = \"flat\"\n", 1)
	s = strings.Replace(s, "window = \"5m\"\n", fmt.Sprintf("window = \"5m\"\nzone = \"UTC\"\n"+
		"shifts = [{ name = \"clock\", start = %q, end = %q }]\n", hhmm(shift.from), hhmm(shift.to)), 1)
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkWarnedOnce: the skew is warned about once, and never again.
func checkWarnedOnce(t *testing.T, br *testenv.Bridge) {
	t.Helper()
	logs := br.Logs()
	if n, m := strings.Count(logs, clockWarning), strings.Count(logs, clockChanged); n != 1 || m != 0 {
		t.Errorf("%d skew warnings and %d offset changes, want 1 and 0", n, m)
	}
}

// checkOnRealClock: every record ends within the test's real time, and the
// closed shift record spans the shift on the real clock.
func checkOnRealClock(t *testing.T, l *oeeLog, real span, shift span, closed oeeRecord) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if e := r.End.UnixNano(); e < real.from || e > real.to {
			t.Fatalf("%s record of %q ends at %s, off the real clock (%s to %s)", r.Kind, r.Station,
				clockOf(e), clockOf(real.from), clockOf(real.to))
		}
	}
	if closed.Start.UnixNano() != shift.from || closed.End.UnixNano() != shift.to {
		t.Errorf("closed shift record %s–%s, want %s–%s", closed.Start, closed.End, clockOf(shift.from), clockOf(shift.to))
	}
}

// recordOf returns station's ("" for the line) record of kind ending at end.
func (l *oeeLog) recordOf(kind, station string, end time.Time) (oeeRecord, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if r.Kind == kind && r.Station == station && r.End.Equal(end) {
			return r, true
		}
	}
	return oeeRecord{}, false
}

func (l *oeeLog) waitRecord(t *testing.T, kind, station string, end time.Time, timeout time.Duration) oeeRecord {
	t.Helper()
	var r oeeRecord
	testenv.Wait(t, timeout, fmt.Sprintf("the %s record ending at %s", kind, end), func() bool {
		var ok bool
		r, ok = l.recordOf(kind, station, end)
		return ok
	})
	return r
}

// onBridgeClock moves the samples and the truth onto the bridge's clock:
// each sample to its bridge time, each truth event by the offset of the
// sample nearest to it by the simulator's clock (one offset, or two across
// a step).
func (l *oeeLog) onBridgeClock(t *testing.T, truth map[string][]truthEvent) map[string][]truthEvent {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var offs [][2]int64 // simulator time, its offset from the bridge's
	for _, ss := range l.samples {
		for i := range ss {
			offs = append(offs, [2]int64{ss[i].source, ss[i].source - ss[i].bridge})
			ss[i].source = ss[i].bridge
		}
	}
	if len(offs) == 0 {
		t.Fatal("no readings")
	}
	slices.SortFunc(offs, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	seen := map[int64]int{}
	for _, o := range offs {
		seen[o[1]]++
	}
	t.Logf("offsets of the simulator's clock from the bridge's, and readings placed by each: %v", seen)
	out := map[string][]truthEvent{}
	for st, evs := range truth {
		for _, e := range evs {
			e.T -= nearest(offs, e.T)
			out[st] = append(out[st], e)
		}
	}
	return out
}

// nearest is the offset of the entry of offs (sorted) nearest to at.
func nearest(offs [][2]int64, at int64) int64 {
	i, _ := slices.BinarySearchFunc(offs, at, func(o [2]int64, at int64) int { return cmp.Compare(o[0], at) })
	switch {
	case i == len(offs):
		i--
	case i > 0 && at-offs[i-1][0] < offs[i][0]-at:
		i--
	}
	return offs[i][1]
}

// compareSpan compares every station and the line over win: the records
// from the shift-to-date record at win.from to end's record. final: end's
// record is closed.
func compareSpan(t *testing.T, l *oeeLog, truth map[string][]truthEvent, win span, final bool, end func(station string) oeeRecord) {
	t.Helper()
	never := func(int64) bool { return false }
	var line lineSum
	for i, st := range oeeStations {
		d := deltaOf(l.startOf(t, st, win), end(st))
		tt := truthTally{final: final}
		tt.tallyTime(truth[st], win, nil)
		for _, e := range tt.tallyParts(l, st, parts(truth[st]), win, nil, never) {
			t.Error(e)
		}
		check(t, stationScope(st, d, tt))
		checkReasons(t, st, d, tt)
		if d.unknown > oeeUnknownSlack.Seconds() {
			t.Errorf("%s: unknown %.3f s, though the bridge never lost the server", st, d.unknown)
		}
		line.add(i == len(oeeStations)-1, tt)
	}
	r0, r2 := l.startOf(t, "", win), end("")
	check(t, line.scope(deltaOf(r0, r2), performanceBetween(t, r0, r2)))
}

func (l *oeeLog) startOf(t *testing.T, station string, win span) oeeRecord {
	t.Helper()
	r, ok := l.shiftToDate(station, time.Unix(0, win.from))
	if !ok {
		t.Fatalf("station %q: no record at the window's start", station)
	}
	return r
}

// performanceBetween is the line's performance between two of its
// records: P times operating time is the ideal work, which differences
// like the times.
func performanceBetween(t *testing.T, r0, r2 oeeRecord) float64 {
	t.Helper()
	if r0.Performance == nil || r2.Performance == nil {
		t.Fatal("line performance undefined")
	}
	op := func(r oeeRecord) float64 { return r.RunS + r.SmallStopS }
	return (*r2.Performance*op(r2) - *r0.Performance*op(r0)) / (op(r2) - op(r0))
}

// compareRolling: the rolling records, whose 5-minute window holds the
// whole run, count what the shift-to-date records count over win.
func compareRolling(t *testing.T, l *oeeLog, win span) {
	t.Helper()
	for _, st := range append(slices.Clone(oeeStations), "") {
		var d [2]delta
		for k, kind := range []string{"rolling", "shift_to_date"} {
			r0, ok0 := l.recordOf(kind, st, time.Unix(0, win.from))
			r2, ok2 := l.recordOf(kind, st, time.Unix(0, win.to))
			if !ok0 || !ok2 {
				t.Fatalf("station %q: no %s record at the window's ends", st, kind)
			}
			d[k] = deltaOf(r0, r2)
		}
		if r, s := d[0], d[1]; r.total != s.total || r.good != s.good || r.reject != s.reject {
			t.Errorf("station %q: rolling records count %d/%d/%d, shift-to-date %d/%d/%d (total/good/reject)",
				st, r.total, r.good, r.reject, s.total, s.good, s.reject)
		}
	}
}

// checkStepFlagged: the closed shift records say the PLC's clock stepped.
func checkStepFlagged(t *testing.T, l *oeeLog, shift span) {
	t.Helper()
	for _, st := range append(slices.Clone(oeeStations), "") {
		if r, _ := l.recordOf("shift", st, time.Unix(0, shift.to)); r.ClockSteps < 1 {
			t.Errorf("station %q: the closed shift record has %d clock steps, want the step", st, r.ClockSteps)
		}
	}
}
