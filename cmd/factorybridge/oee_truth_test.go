package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"testing"
)

// truthEvent is one line of the simulator's ground-truth log
// (testdata/simulator/README.md, "Ground truth").
type truthEvent struct {
	T        int64  `json:"t_ns"`
	Event    string `json:"event"` // start, state, reset, stop
	Station  string `json:"station"`
	Status   int    `json:"status"`
	Good     int64  `json:"good"` // parts made in this run
	Bad      int64  `json:"bad"`
	Reason   int    `json:"reason"`
	GoodNode uint64 `json:"good_node"` // what the counters showed
	BadNode  uint64 `json:"bad_node"`
	FaultLen int64  `json:"fault_len_ms"`
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

func (s span) has(t int64) bool { return t >= s.from && t < s.to }

func inside(t int64, spans []span) bool {
	for _, s := range spans {
		if s.has(t) {
			return true
		}
	}
	return false
}

// outside is the ns of s not covered by spans (disjoint).
func outside(s span, spans []span) int64 {
	if s.to <= s.from {
		return 0
	}
	d := s.to - s.from
	for _, u := range spans {
		if lo, hi := max(s.from, u.from), min(s.to, u.to); hi > lo {
			d -= hi - lo
		}
	}
	return d
}

// fault is one Fault of a station, from its line to the next state change.
type fault struct {
	span
	reason int
}

// faults lists a station's faults; a reset line is no state change.
func faults(evs []truthEvent) []fault {
	var out []fault
	for i, e := range evs {
		if e.Event != "state" || e.Status != 4 {
			continue
		}
		f := fault{span{e.T, math.MaxInt64}, e.Reason}
		for _, n := range evs[i+1:] {
			if n.Event != "reset" {
				f.to = n.T
				break
			}
		}
		out = append(out, f)
	}
	return out
}

// seen is the part of f the bridge could see: a gap at either end cut off,
// a gap in the middle kept (the stop goes on across it). ok is false when
// all of it fell in a gap.
func (f fault) seen(unknown []span) (span, bool) {
	s := f.span
	for _, u := range unknown {
		if u.has(s.from) {
			s.from = u.to
		}
		if s.to > u.from && s.to <= u.to {
			s.to = u.from
		}
	}
	return s, s.to > s.from
}

// part is one part the simulator made.
type part struct {
	t        int64
	node     string // the counter that counted it
	value    uint64 // the counter's value after it
	boundary int64  // the next reset or stop of its station: its count is lost if unread by then
}

// parts lists a station's parts in the order made.
func parts(evs []truthEvent) []part {
	var out []part
	var good, bad int64
	for i, e := range evs {
		switch {
		case e.Event == "start":
			good, bad = 0, 0
		case e.Event != "state":
		case e.Good > good:
			out = append(out, part{e.T, nodeGood, e.GoodNode, boundary(evs[i+1:])})
		case e.Bad > bad:
			out = append(out, part{e.T, nodeBad, e.BadNode, boundary(evs[i+1:])})
		}
		good, bad = e.Good, e.Bad
	}
	return out
}

func boundary(rest []truthEvent) int64 {
	for _, e := range rest {
		if e.Event == "reset" || e.Event == "stop" {
			return e.T
		}
	}
	return math.MaxInt64
}

// The counter nodes.
const (
	nodeGood = "NumberOfManufacturedProducts"
	nodeBad  = "NumberOfDiscardedProducts"
)
