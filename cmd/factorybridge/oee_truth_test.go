package main

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// truthEvent is one line of the simulator's ground-truth log
// (testdata/simulator/README.md, "Ground truth").
type truthEvent struct {
	T       int64  `json:"t_ns"`
	Event   string `json:"event"` // start, state, stop
	Station string `json:"station"`
	Status  int    `json:"status"`
	Good    int64  `json:"good"`
	Bad     int64  `json:"bad"`
}

func readTruth(t *testing.T, path string) map[string][]truthEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]truthEvent{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e truthEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("truth line %q: %v", sc.Text(), err)
		}
		out[e.Station] = append(out[e.Station], e)
	}
	return out
}

// span is a time interval [from, to) in Unix ns.
type span struct{ from, to int64 }

// truthTally is what the line did over a window, outside the spans the
// bridge could not see (its unknown time): seconds running and in fault,
// and parts, those made while unknown (gap parts) counted apart too.
type truthTally struct {
	runS, faultS          float64
	good, bad             int64
	gapGood, gapBad       int64
	unseenGood, unseenBad int64 // made just before a simulator stop, never published
	lastGood, lastBad     int64
}

// tallyTruth tallies one station's events over win, excluding unknown.
// seen(life end, counter) caps a run of the simulator that ended with a
// stop at the last counter values the bridge published before it: a
// restarted PLC resets its counters, so what it never published is lost to
// every observer.
func tallyTruth(evs []truthEvent, win span, unknown []span, seen func(stop int64) (good, bad int64)) truthTally {
	var tt truthTally
	for i, e := range evs {
		end := win.to
		if i+1 < len(evs) {
			end = min(end, evs[i+1].T)
		}
		if e.Event != "stop" {
			d := outside(span{max(e.T, win.from), end}, unknown)
			if e.Status == 4 {
				tt.faultS += d
			} else {
				tt.runS += d
			}
		}
		tt.count(e, evs[i:], win, unknown, seen)
	}
	return tt
}

// count adds the parts e shows (against the previous line of its run).
func (tt *truthTally) count(e truthEvent, rest []truthEvent, win span, unknown []span, seen func(int64) (int64, int64)) {
	if e.Event == "start" {
		tt.lastGood, tt.lastBad = 0, 0
		return
	}
	dg, db := e.Good-tt.lastGood, e.Bad-tt.lastBad
	tt.lastGood, tt.lastBad = e.Good, e.Bad
	if e.T <= win.from || e.T > win.to || (dg == 0 && db == 0) {
		return
	}
	if stop := stopOf(rest); stop != 0 {
		if g, b := seen(stop); e.Good > g || e.Bad > b {
			tt.unseenGood += dg
			tt.unseenBad += db
			return
		}
	}
	tt.good += dg
	tt.bad += db
	if inside(e.T, unknown) {
		tt.gapGood += dg
		tt.gapBad += db
	}
}

// stopOf returns the time of the stop that ends the run rest begins in, or
// 0 when the run did not end with a stop before the log's end.
func stopOf(rest []truthEvent) int64 {
	for _, e := range rest[1:] {
		switch e.Event {
		case "stop":
			return e.T
		case "start":
			return 0
		}
	}
	return 0
}

// outside is the seconds of s not covered by unknown (disjoint spans).
func outside(s span, unknown []span) float64 {
	if s.to <= s.from {
		return 0
	}
	d := s.to - s.from
	for _, u := range unknown {
		if lo, hi := max(s.from, u.from), min(s.to, u.to); hi > lo {
			d -= hi - lo
		}
	}
	return float64(d) / 1e9
}

func inside(t int64, spans []span) bool {
	for _, s := range spans {
		if t >= s.from && t < s.to {
			return true
		}
	}
	return false
}
