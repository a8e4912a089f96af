package oee

import fb "factorybridge"

const minute = int64(60e9)

// advance accounts the station's time up to t and returns the time the
// reading at t is taken at: never before what was already accounted, so
// late readings cannot rewrite the past.
func (s *station) advance(t int64) int64 {
	if !s.S.Started {
		s.S.Started, s.S.Cursor = true, t
		return t
	}
	for s.S.Cursor < t {
		end := min(t, (floorDiv(s.S.Cursor, minute)+1)*minute)
		if s.S.Pending {
			deadline := s.S.PendingStart + s.smallStop
			if deadline <= s.S.Cursor {
				s.resolve(false) // long enough: an unplanned stop
			} else {
				end = min(end, deadline)
			}
		}
		s.account(s.S.Cursor, end-s.S.Cursor)
		s.S.Cursor = end
	}
	if s.S.Pending && s.S.PendingStart+s.smallStop <= s.S.Cursor {
		s.resolve(false)
	}
	return s.S.Cursor
}

// account adds d ns from t, all inside one minute, to the category the
// calendar and the station's state give it.
func (s *station) account(t, d int64) {
	mi := s.line.minute(t)
	c, ok := s.category(mi.sched)
	if !ok {
		return
	}
	for _, tg := range s.targetsIn(mi, t) {
		if tg != nil {
			tg.Dur[c] += d
		}
	}
}

// category says where planned time goes; ok is false outside planned time.
func (s *station) category(sc schedule) (cat, bool) {
	switch {
	case sc == schedOff || sc == schedBreak:
		return 0, false
	case sc == schedDowntime && s.line.iso:
		return 0, false // ISO 22400: planned downtime is not planned busy time
	case sc == schedDowntime:
		return catPlanned, true
	case s.S.Disconnected:
		return catUnknown, true
	case !s.hasState:
		return catRun, true
	case s.S.Pending:
		return catPending, true
	}
	return bucketCats[s.S.Bucket], true
}

var bucketCats = [...]cat{
	BucketUnknown: catUnknown, BucketRunning: catRun, BucketUnplannedStop: catUnplanned,
	BucketPlannedStop: catPlanned, BucketSmallStop: catSmall, BucketExcluded: catExcluded,
}

// targets returns the tallies an event at t counts in: its minute of the
// rolling window, its hour and its shift (nil where there is none).
func (s *station) targets(t int64) [3]*tally {
	return s.targetsIn(s.line.minute(t), t)
}

func (s *station) targetsIn(mi *minuteInfo, t int64) [3]*tally {
	var out [3]*tally
	out[0] = s.ringAt(floorDiv(t, minute))
	if mi.hour != nil {
		out[1] = &mi.hour.St[s.idx]
	}
	if mi.shift != nil {
		out[2] = &mi.shift.St[s.idx]
	}
	return out
}

// ringAt returns minute m's tally, clearing a slot an older minute held;
// nil when a newer minute holds it already.
func (s *station) ringAt(m int64) *tally {
	i := int(floorMod(m, int64(len(s.S.Ring))))
	switch {
	case s.S.RingMin[i] == m:
	case s.S.RingMin[i] < m:
		s.S.Ring[i], s.S.RingMin[i] = tally{}, m
	default:
		return nil
	}
	return &s.S.Ring[i]
}

// onCount takes a counter reading and counts its delta.
func (s *station) onCount(ro role, r *fb.Reading, t int64) {
	raw, ok := rawOf(r.Value)
	if !ok || !r.IsGood() {
		return
	}
	c := &s.S.Counters[ro-roleGood]
	gap := c.Gap && c.Valid
	c.Gap = false
	d, bad := c.update(raw, t, partLimit(t-c.At, s.S.Ideal, s.factor))
	if d == 0 && !bad {
		return
	}
	n := int64(d)
	for _, tg := range s.targets(t) {
		if tg != nil {
			s.addCount(tg, ro, n, gap, bad)
		}
	}
}

func (s *station) addCount(tg *tally, ro role, n int64, gap, bad bool) {
	switch {
	case bad:
		tg.Implausible++
		return
	case ro == roleGood:
		tg.Good += n
	case ro == roleTotal:
		tg.Total += n
	default:
		tg.Reject += n
	}
	if !s.producing[ro-roleGood] {
		return
	}
	switch {
	case gap:
		tg.GapParts += n // made while we could not see: no run time to match
	case s.S.Ideal > 0:
		tg.IdealWork += n * s.S.Ideal
	default:
		tg.NoIdeal += n
	}
}

// onFault takes the accumulated fault time of a station without a state
// node: its delta is a stop that ended at t, carved out of running time.
func (s *station) onFault(r *fb.Reading, t int64) {
	raw, ok := rawOf(r.Value)
	if !ok || !r.IsGood() || s.hasState {
		return
	}
	d, _ := s.S.Counters[3].update(raw, t, 0)
	if d == 0 {
		return
	}
	dur := int64(d) * s.unit
	to := catUnplanned
	if dur < s.smallStop {
		to = catSmall
	}
	s.carveRing(floorDiv(t, minute), dur, to)
	for _, p := range s.line.S.Open {
		if ov := min(t, p.End) - max(t-dur, p.Start); ov > 0 {
			moveRun(&p.St[s.idx], ov, to)
		}
	}
	s.countStop(t, to == catSmall)
}

// carveRing moves dur of running time, walking back from minute m.
func (s *station) carveRing(m, dur int64, to cat) {
	for k := 0; k < len(s.S.Ring) && dur > 0; k++ {
		if tg := s.ringAt(m - int64(k)); tg != nil {
			dur -= moveRun(tg, dur, to)
		}
	}
}

// moveRun moves up to d of running time to cat to and returns how much.
func moveRun(tg *tally, d int64, to cat) int64 {
	d = min(d, tg.Dur[catRun])
	tg.Dur[catRun] -= d
	tg.Dur[to] += d
	return d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
