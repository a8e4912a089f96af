package oee

import "time"

// A counter that reads lower than before has wrapped at its width or been
// reset. For one counter alone the two can look alike; a station gives more
// evidence, and a drop is judged with all of it (docs/oee.md, "Counters"):
//
//  1. Impossible wraps. A wrap that would mean more parts than the elapsed
//     time allows at the ideal cycle (with the plausibility factor) — for
//     good and reject counters together, the other's parts since included —
//     or more good or rejected parts than the total counter counted (asked
//     when the drop's window closes), is a reset. Without an ideal cycle
//     time, a wrap of more than half the range is.
//  2. Siblings. Counters of the station falling within coFall of each other
//     were reset together, unless every one of them fits its recent rate
//     as a wrap (good and total wrap together when there are few rejects).
//     A drop waits coFall for its siblings before it is counted.
//  3. The recent rate. A wrap is taken when its parts fit the counter's
//     recent rate over the busy time since its last value, a reset when
//     they are far more.
//  4. Without a rate (the first minute of busy time) and without the
//     others, a drop that is a plausible wrap is taken as one, and counted
//     as ambiguous.
const coFall = int64(5 * time.Second)

// drop is a counter reading lower than the one before. Its fields are
// exported for gob.
type drop struct {
	Idx         int    // the counter: good, total, reject
	At          int64  // the reading's time, where its parts count
	Wrap, Reset uint64 // its parts if it wrapped, and if it was reset
	Limit       uint64 // the most parts plausible since the value before; 0: none known
	Busy        int64  // busy ns since the value before, for the rate
	MadeAt      int64  // the station's Made at the value before
	Gap         bool   // it spans a gap in the data
	Rate        verdict
	Decided     bool
	IsReset     bool
}

// onDrop takes counter i falling to v at t.
func (s *station) onDrop(i int, v uint64, t int64, gap bool, limit uint64) {
	c := &s.S.Counters[i]
	d := drop{Idx: i, At: t, Wrap: (v - c.Last) & c.mask(), Reset: c.afterReset(v), Limit: limit,
		Busy: s.S.Busy - c.BusyAt, MadeAt: c.MadeAt, Gap: gap}
	d.Rate = c.rateVerdict(d.Wrap, d.Busy)
	impossible := s.wrapImpossible(i, d.Wrap, limit)
	c.Last, c.At, c.BusyAt, c.MadeAt = v, t, s.S.Busy, s.S.Made
	s.S.Drops = append(s.S.Drops, d)
	if impossible {
		s.decide(len(s.S.Drops)-1, true, false)
	}
	s.judgeDrops()
}

// wrapImpossible applies the evidence of time and the ideal cycle (rule 1)
// with the parts counted before the drop.
func (s *station) wrapImpossible(i int, wrap, limit uint64) bool {
	c := &s.S.Counters[i]
	switch {
	case limit == 0:
		return wrap > c.mask()>>1
	case s.producing[i] && s.counting == countGood: // good and reject parts add up
		return wrap+uint64(max(s.S.Made-c.MadeAt, 0))+s.undecidedMade(i) > limit
	}
	return wrap > limit
}

// moreThanMade applies rule 1 to a good or reject counter beside a total
// counter: it cannot count more parts than the total did. It is asked when
// the drop's window closes, so that the total's reading of the same
// instant has come, whichever came first.
func (s *station) moreThanMade(d *drop) bool {
	since := uint64(max(s.S.Made-d.MadeAt, 0)) + s.undecidedMade(d.Idx)
	return !d.Gap && !s.producing[d.Idx] && d.Wrap > since+2
}

// undecidedMade is the most parts the producing counters other than i may
// have counted in drops not judged yet.
func (s *station) undecidedMade(i int) uint64 {
	var n uint64
	for _, d := range s.S.Drops {
		if !d.Decided && d.Idx != i && s.producing[d.Idx] {
			n += d.Wrap
		}
	}
	return n
}

// judgeDrops decides every drop whose siblings have had their chance to
// fall, and forgets decided drops no later drop can be a sibling of.
func (s *station) judgeDrops() {
	for changed := true; changed; {
		changed = false
		for k := range s.S.Drops {
			if d := &s.S.Drops[k]; !d.Decided && s.judge(k) {
				changed = true
			}
		}
	}
	keep := s.S.Drops[:0]
	for _, d := range s.S.Drops {
		if !d.Decided || d.At+coFall >= s.S.Cursor {
			keep = append(keep, d)
		}
	}
	s.S.Drops = keep
}

// judge decides drop k if the evidence is in (rules 2 to 4).
func (s *station) judge(k int) bool {
	d := s.S.Drops[k]
	fits, siblings := d.Rate == rateFits, false
	for j, o := range s.S.Drops {
		if j == k || o.Idx == d.Idx || abs(o.At-d.At) > coFall {
			continue
		}
		if o.Decided && o.IsReset {
			s.decide(k, true, false)
			return true
		}
		siblings, fits = true, fits && o.Rate == rateFits
	}
	switch {
	case s.S.Cursor < d.At+coFall:
		return false // a sibling may still fall
	case s.moreThanMade(&d):
		s.decide(k, true, false)
	case siblings:
		s.decide(k, !fits, false)
	case d.Rate == rateUnknown:
		s.decide(k, false, true)
	default:
		s.decide(k, d.Rate == rateExceeds, false)
	}
	return true
}

// decide counts drop k as a reset or a wrap, where it happened.
func (s *station) decide(k int, reset, ambiguous bool) {
	d := &s.S.Drops[k]
	d.Decided, d.IsReset = true, reset
	n := d.Wrap
	if reset {
		n = d.Reset
	}
	for _, tg := range s.targets(d.At) {
		switch {
		case tg == nil:
			continue
		case reset:
			tg.Resets++
		default:
			tg.Wraps++
		}
		if ambiguous {
			tg.Ambiguous++
		}
	}
	if s.count(d.Idx, n, d.At, d.Gap, d.Limit, d.Busy) && s.producing[d.Idx] {
		s.S.Counters[d.Idx].MadeAt += int64(n) // its own parts are not the others'
	}
}

// undecidedBefore reports a drop not judged yet from before t: records of
// periods ending after it wait.
func (s *station) undecidedBefore(t int64) bool {
	for _, d := range s.S.Drops {
		if !d.Decided && d.At < t {
			return true
		}
	}
	return false
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
