package main

import (
	"math"
	"slices"
	"testing"
	"time"
)

// scenario is what the test did, by its own clock.
type scenario struct {
	warm                  time.Time // records flowing, every state known
	killAt, restartAt     time.Time // bridge killed with -9, started again
	killedStation         string    // the station in a fault at the kill …
	killedFault           int64     // … and the fault's start, Unix ns
	simStopAt, simStartAt time.Time // simulator stopped, started again
}

// maxResume bounds how long after a restart the server may take to send the
// bridge data again.
const maxResume = 20 * time.Second

// gaps returns the spans the bridge could not see, bounded by the test's
// own times and timed by the server's timestamps, never by the bridge's
// account: from the last data that reached the broker before the kill to
// the first data the server sent the restarted bridge, and from the
// simulator's stop to the first data after its start. excuses are the
// spans in which a part's reading may never have reached the broker: the
// bridge's down time with what it had not committed at the kill, and the
// simulator's last moments before it stopped.
func (sc scenario) gaps(t *testing.T, l *oeeLog) (unknown, excuses []span) {
	t.Helper()
	killed := l.lastBefore(sc.killAt)
	if killed < sc.killAt.Add(-oeeInFlight).UnixNano() {
		t.Fatalf("the last data before the kill is %.3f s older than the kill", seconds(sc.killAt.UnixNano()-killed))
	}
	for _, g := range []struct {
		from          int64
		stop, restart time.Time
		what          string
	}{{killed, sc.killAt, sc.restartAt, "bridge restart"}, {sc.simStopAt.UnixNano(), sc.simStopAt, sc.simStartAt, "simulator restart"}} {
		resume := l.resumeAfter(g.restart)
		if resume == 0 || resume > g.restart.Add(maxResume).UnixNano() {
			t.Fatalf("no data within %v of the %s", maxResume, g.what)
		}
		unknown = append(unknown, span{g.from, resume})
		excuses = append(excuses, span{g.stop.Add(-oeeInFlight).UnixNano(), resume})
		t.Logf("%s: unknown %.3f s, data again %.3f s after the restart", g.what,
			seconds(resume-g.from), seconds(resume-g.restart.UnixNano()))
	}
	return unknown, excuses
}

// checkKilledFault fails the test when the fault the bridge was killed in
// did not go on after the bridge was back: it would not test a stop across
// a gap.
func (sc scenario) checkKilledFault(t *testing.T, truth map[string][]truthEvent, gap span) {
	t.Helper()
	for _, f := range faults(truth[sc.killedStation]) {
		if f.from == sc.killedFault {
			t.Logf("killed %.3f s into a %.3f-s fault of %s; the bridge was back %.3f s later",
				seconds(gap.from-f.from), seconds(f.to-f.from), sc.killedStation, seconds(gap.to-gap.from))
			if f.to <= gap.to {
				t.Fatalf("the fault ended before the bridge was back; raise oeeKillFault")
			}
			return
		}
	}
	t.Fatalf("no fault of %s at %d in the truth log", sc.killedStation, sc.killedFault)
}

// window picks the compared span: from the first line record after warm to
// the last one, each at a moment when no station is in a fault (a fault
// still being classified would mix classes across the window's edge).
func (l *oeeLog) window(t *testing.T, truth map[string][]truthEvent, warm time.Time) span {
	t.Helper()
	var fs []fault
	for _, st := range oeeStations {
		fs = append(fs, faults(truth[st])...)
	}
	clean := func(e time.Time) bool {
		return !slices.ContainsFunc(fs, func(f fault) bool { return f.has(e.UnixNano()) })
	}
	var ok []time.Time
	for _, e := range l.lineEnds() {
		if e.After(warm) && clean(e) {
			ok = append(ok, e)
		}
	}
	if len(ok) < 2 || ok[0].YearDay() != ok[len(ok)-1].YearDay() {
		t.Fatalf("no two line records after %v outside faults on one UTC day: %v", warm, ok)
	}
	return span{ok[0].UnixNano(), ok[len(ok)-1].UnixNano()}
}

// figures are the counts and ratios compared.
type figures struct {
	total, good, reject int64
	a, p, q             float64
}

func (f figures) oee() float64 { return f.a * f.p * f.q }

// scope is one station's or the line's figures from the bridge's records
// and from the truth, over the same window.
type scope struct {
	name                      string
	bridge, truth             figures
	gapBridge, gapTruth, lost int64
}

// delta is a scope's records over the window: the last less the first.
type delta struct {
	planned, run, small, unknown float64
	total, good, reject, gap     int64
	resets                       int64
	reasons                      map[string]*reasonTally
}

func deltaOf(r0, r2 oeeRecord) delta {
	d := delta{planned: r2.PlannedS - r0.PlannedS, run: r2.RunS - r0.RunS, small: r2.SmallStopS - r0.SmallStopS,
		unknown: r2.UnknownS - r0.UnknownS, total: r2.Total - r0.Total, good: r2.Good - r0.Good,
		reject: r2.Reject - r0.Reject, gap: r2.GapParts - r0.GapParts, resets: r2.CounterResets - r0.CounterResets,
		reasons: map[string]*reasonTally{}}
	for sign, r := range map[float64]oeeRecord{1: r2, -1: r0} {
		for _, x := range r.Reasons {
			k := x.Code + "/" + x.Loss
			if d.reasons[k] == nil {
				d.reasons[k] = &reasonTally{}
			}
			d.reasons[k].s += sign * x.S
			d.reasons[k].stops += int64(sign) * x.Stops
		}
	}
	return d
}

func stationScope(name string, d delta, tt truthTally) scope {
	op, parts := d.run+d.small, tt.good+tt.bad
	tOp := tt.runS + tt.smallS
	return scope{name: name, gapBridge: d.gap, gapTruth: tt.gap, lost: tt.lost,
		bridge: figures{total: d.total, good: d.good, reject: d.reject,
			a: op / d.planned, p: oeeIdealS * float64(d.total-d.gap) / op, q: float64(d.good) / float64(d.total)},
		truth: figures{total: parts, good: tt.good, reject: tt.bad,
			a: tOp / (tOp + tt.unplannedS), p: oeeIdealS * float64(parts-tt.gap) / tOp, q: float64(tt.good) / float64(parts)},
	}
}

// check compares a scope: counts exactly, ratios within ±0.5 pp.
func check(t *testing.T, s scope) {
	t.Helper()
	b, tr := s.bridge, s.truth
	t.Logf("%-9s parts %d/%d good %d/%d reject %d/%d (gap %d/%d, lost %d)  A %.2f%%/%.2f%%  P %.2f%%/%.2f%%  Q %.2f%%/%.2f%%  OEE %.2f%%/%.2f%%  (bridge/truth)",
		s.name, b.total, tr.total, b.good, tr.good, b.reject, tr.reject, s.gapBridge, s.gapTruth, s.lost,
		100*b.a, 100*tr.a, 100*b.p, 100*tr.p, 100*b.q, 100*tr.q, 100*b.oee(), 100*tr.oee())
	if b.total != tr.total || b.good != tr.good || b.reject != tr.reject {
		t.Errorf("%s: counts differ from the truth", s.name)
	}
	for _, f := range []struct {
		what      string
		got, want float64
	}{{"A", b.a, tr.a}, {"P", b.p, tr.p}, {"Q", b.q, tr.q}, {"OEE", b.oee(), tr.oee()}} {
		if math.IsNaN(f.got) || math.Abs(f.got-f.want) > oeeTolerance {
			t.Errorf("%s: %s %.3f%%, truth %.3f%%: more than ±0.5 pp apart", s.name, f.what, 100*f.got, 100*f.want)
		}
	}
}

// checkReasons compares stop time (within ±0.5 pp of planned time) and
// stops (exactly) per reason code and loss class.
func checkReasons(t *testing.T, station string, d delta, tt truthTally) {
	t.Helper()
	keys := map[string]bool{}
	for k := range d.reasons {
		keys[k] = true
	}
	for k := range tt.reasons {
		keys[k] = true
	}
	for k := range keys {
		b, tr := d.reasons[k], tt.reasons[k]
		if b == nil {
			b = &reasonTally{}
		}
		if tr == nil {
			tr = &reasonTally{}
		}
		t.Logf("%-9s reason %-20s %7.2f s / %7.2f s, %d / %d stops (bridge/truth)", station, k, b.s, tr.s, b.stops, tr.stops)
		if math.Abs(b.s-tr.s) > oeeTolerance*d.planned || b.stops != tr.stops {
			t.Errorf("%s: reason %s differs from the truth", station, k)
		}
	}
}

// checkUnknown: the bridge's unknown time is the time the test made it blind.
func checkUnknown(t *testing.T, station string, d delta, win span, unknown []span) {
	t.Helper()
	var want int64
	for _, u := range unknown {
		want += u.to - u.from - outside(u, []span{win})
	}
	if math.Abs(d.unknown-seconds(want)) > oeeUnknownSlack.Seconds()*float64(len(unknown)) {
		t.Errorf("%s: unknown %.3f s, but the test made the bridge blind for %.3f s", station, d.unknown, seconds(want))
	}
}
