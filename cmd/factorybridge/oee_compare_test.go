package main

import (
	"math"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

// scopeTruth is one scope's (station or line) figures from the bridge's
// records and from the truth log over the same window.
type scopeTruth struct {
	name      string
	bridge    figures
	truth     figures
	unseen    int64 // parts the simulator made but never published before a stop
	gapBridge int64
	gapTruth  int64
}

// figures are the counts and ratios compared.
type figures struct {
	total, good, reject int64
	a, p, q             float64
}

func (f figures) oee() float64 { return f.a * f.p * f.q }

// compareWithTruth finds, per station, the window from the first
// shift-to-date record after warm to the last one, the spans the bridge
// did not see, and compares.
func compareWithTruth(t *testing.T, l *oeeLog, br *testenv.Bridge, truth map[string][]truthEvent, warm time.Time) {
	t.Helper()
	stops := br.Entries("oee: server data stops; station time is unknown until it resumes")
	restored := br.Entries("oee: state restored; the time since is unknown until the servers are back")
	if len(stops) == 0 || len(restored) != 1 {
		t.Fatalf("want a data-stop and one state-restored log line, got %d and %d\n%s", len(stops), len(restored), br.LogTail())
	}
	simStop, through := stops[0].TimeAttr("at"), restored[0].TimeAttr("through")
	var line lineSum
	for _, st := range oeeStations {
		w := l.window(t, st, warm, through)
		unknown := []span{
			{simStop.UnixNano(), simStop.UnixNano() + secondsNS(w.r1.UnknownS-w.r0.UnknownS)},
			{through.UnixNano(), through.UnixNano() + secondsNS(w.r2.UnknownS-w.r1.UnknownS)},
		}
		seen := func(stop int64) (int64, int64) {
			return l.lastSeen(st, "NumberOfManufacturedProducts", stop), l.lastSeen(st, "NumberOfDiscardedProducts", stop)
		}
		tt := tallyTruth(truth[st], span{w.r0.End.UnixNano(), w.r2.End.UnixNano()}, unknown, seen)
		sc := stationScope(st, w, tt)
		line.add(st == oeeStations[len(oeeStations)-1], tt)
		check(t, sc)
	}
	check(t, line.scope(l.window(t, "", warm, through)))
}

// window is a scope's records: after warm-up (r0), the last before the
// bridge restart (r1) and the last of all (r2).
type window struct{ r0, r1, r2 oeeRecord }

func (l *oeeLog) window(t *testing.T, station string, warm, through time.Time) window {
	t.Helper()
	var w window
	var ok0, ok1, ok2 bool
	w.r0, ok0 = l.shiftToDate(station, func(e time.Time) bool { return e.After(warm) }, false)
	w.r1, ok1 = l.shiftToDate(station, func(e time.Time) bool { return !e.After(through) }, true)
	w.r2, ok2 = l.shiftToDate(station, func(time.Time) bool { return true }, true)
	if !ok0 || !ok1 || !ok2 || w.r0.End.Day() != w.r2.End.Day() {
		t.Fatalf("station %q: records missing or the UTC day changed during the test: %+v", station, w)
	}
	return w
}

func stationScope(name string, w window, tt truthTally) scopeTruth {
	run := w.r2.RunS - w.r0.RunS
	total, gap := w.r2.Total-w.r0.Total, w.r2.GapParts-w.r0.GapParts
	parts := tt.good + tt.bad
	return scopeTruth{name: name, unseen: tt.unseenGood + tt.unseenBad, gapBridge: gap, gapTruth: tt.gapGood + tt.gapBad,
		bridge: figures{total: total, good: w.r2.Good - w.r0.Good, reject: w.r2.Reject - w.r0.Reject,
			a: run / (w.r2.PlannedS - w.r0.PlannedS), p: oeeIdealS * float64(total-gap) / run, q: float64(w.r2.Good-w.r0.Good) / float64(total)},
		truth: figures{total: parts, good: tt.good, reject: tt.bad,
			a: tt.runS / (tt.runS + tt.faultS), p: oeeIdealS * float64(parts-tt.gapGood-tt.gapBad) / tt.runS, q: float64(tt.good) / float64(parts)},
	}
}

// lineSum sums the stations' truth as docs/oee.md rolls a line up: times,
// rejects and ideal work summed, good from the output (last) station.
type lineSum struct {
	runS, faultS, idealParts float64
	good, bad, gap, unseen   int64
}

func (s *lineSum) add(output bool, tt truthTally) {
	s.runS += tt.runS
	s.faultS += tt.faultS
	s.idealParts += float64(tt.good + tt.bad - tt.gapGood - tt.gapBad)
	s.bad += tt.bad
	s.gap += tt.gapGood + tt.gapBad
	s.unseen += tt.unseenGood + tt.unseenBad
	if output {
		s.good = tt.good
	}
}

func (s *lineSum) scope(w window) scopeTruth {
	b := stationScope("line", w, truthTally{})
	b.gapTruth, b.unseen = s.gap, s.unseen
	if w.r0.Performance != nil && w.r2.Performance != nil { // the line's own P: Σ ideal work / Σ operating
		b.bridge.p = lineP(w)
	}
	b.truth = figures{total: s.good + s.bad, good: s.good, reject: s.bad,
		a: s.runS / (s.runS + s.faultS), p: oeeIdealS * s.idealParts / s.runS, q: float64(s.good) / float64(s.good+s.bad)}
	return b
}

// lineP is the line's performance over the window from its records: P
// times run time is the ideal work, which differences like the run time.
func lineP(w window) float64 {
	work := func(r oeeRecord) float64 { return *r.Performance * r.RunS }
	return (work(w.r2) - work(w.r0)) / (w.r2.RunS - w.r0.RunS)
}

func check(t *testing.T, s scopeTruth) {
	t.Helper()
	b, tr := s.bridge, s.truth
	t.Logf("%-9s parts %d/%d good %d/%d reject %d/%d (gap %d/%d, unpublished %d)  A %.2f%%/%.2f%%  P %.2f%%/%.2f%%  Q %.2f%%/%.2f%%  OEE %.2f%%/%.2f%%  (bridge/truth)",
		s.name, b.total, tr.total, b.good, tr.good, b.reject, tr.reject, s.gapBridge, s.gapTruth, s.unseen,
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

func secondsNS(s float64) int64 { return int64(math.Round(s * 1e9)) }
