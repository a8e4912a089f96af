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
	s.settle()
	for s.S.Cursor < t {
		end := min(t, (floorDiv(s.S.Cursor, minute)+1)*minute)
		if s.S.Pending && !s.S.Stop.Held { // a held stop waits for the data to resume
			end = min(end, max(s.S.PendingStart+s.smallStop, s.S.Cursor+1))
		}
		s.account(s.S.Cursor, end-s.S.Cursor)
		s.S.Cursor = end
		s.settle()
	}
	if len(s.S.Drops) > 0 {
		s.judgeDrops()
	}
	return s.S.Cursor
}

// account adds d ns from t, all inside one minute, to the category the
// calendar and the station's state give it.
func (s *station) account(t, d int64) {
	sc := s.stateCat()
	if sc == catRun || sc == catUnknown {
		s.S.Busy += d // time the counters may count in (counter.go)
	}
	mi := s.line.minute(t)
	c, ok := s.category(mi.sched, sc)
	if !ok {
		return
	}
	ofStop := mi.sched == schedOn && sc == c && isStop(s.S.Bucket) && s.hasState && !s.S.Disconnected
	for _, tg := range s.targetsIn(mi, t) {
		if tg == nil {
			continue
		}
		tg.Dur[c] += d
		if ofStop {
			tg.StopDur += d // the open stop's, given to its reason when it ends
		}
	}
}

// category says where planned time goes, given the station's own
// category sc; ok is false outside planned time.
func (s *station) category(sched schedule, sc cat) (cat, bool) {
	switch {
	case sched == schedOff || sched == schedBreak:
		return 0, false
	case sched == schedDowntime && s.line.iso:
		return 0, false // ISO 22400: planned downtime is not planned busy time
	case sched == schedDowntime:
		return catPlanned, true
	}
	return sc, true
}

// stateCat is the category the station's connection and state give its
// time, whatever the calendar says.
func (s *station) stateCat() cat {
	switch {
	case s.S.Disconnected:
		return catUnknown
	case !s.hasState:
		return catRun
	case s.S.Bucket == BucketUnknown:
		return catUnknown // a stop held across a gap waits; its gap is unknown
	case s.S.Pending:
		return catPending
	}
	return bucketCats[s.S.Bucket]
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

// onCount takes a counter reading and counts its delta; a drop is judged
// in drop.go.
func (s *station) onCount(ro role, r *fb.Reading, t int64) {
	raw, ok := rawOf(r.Value)
	if !ok || !r.IsGood() {
		return
	}
	i := int(ro - roleGood)
	c := &s.S.Counters[i]
	gap := c.Gap && c.Valid
	c.Gap = false
	v := raw & c.mask()
	if !c.Valid {
		c.Last, c.At, c.Valid, c.BusyAt, c.MadeAt = v, t, true, s.S.Busy, s.S.Made
		return
	}
	limit := partLimit(t-c.At, s.S.Ideal, s.factor)
	if c.falls(v) {
		s.onDrop(i, v, t, gap, limit)
		return
	}
	d, busy := (v-c.Last)&c.mask(), s.S.Busy-c.BusyAt
	c.Last, c.At, c.BusyAt = v, t, s.S.Busy
	s.count(i, d, t, gap, limit, busy)
	c.MadeAt = s.S.Made
}

// count counts n parts of counter i at t, unless more than limit (0: no
// limit) are implausible, and learns its rate from them. It reports
// whether they were counted.
func (s *station) count(i int, n uint64, t int64, gap bool, limit uint64, busy int64) bool {
	bad := limit != 0 && n > limit
	for _, tg := range s.targets(t) {
		switch {
		case tg == nil || n == 0 && !bad:
		case bad:
			tg.Implausible++
		default:
			s.addCount(tg, i, int64(n), gap, t < s.S.StartupUntil)
		}
	}
	if bad {
		return false
	}
	s.S.Counters[i].learn(n, busy)
	if s.producing[i] {
		s.S.Made += int64(n)
	}
	return true
}

func (s *station) addCount(tg *tally, i int, n int64, gap, startup bool) {
	counts := [3]*int64{&tg.Good, &tg.Total, &tg.Reject}
	*counts[i] += n
	if startup {
		*[3]*int64{&tg.StartupGood, &tg.StartupTotal, &tg.StartupReject}[i] += n
	}
	if !s.producing[i] {
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
	to, loss := catUnplanned, LossBreakdown
	if dur < s.smallStop {
		to, loss = catSmall, LossSmallStop
	}
	s.carveRing(floorDiv(t, minute), dur, to, loss)
	for _, p := range s.line.S.Open {
		if ov := min(t, p.End) - max(t-dur, p.Start); ov > 0 {
			moveRun(&p.St[s.idx], ov, to, loss)
		}
	}
	for _, tg := range s.targets(t) {
		switch {
		case tg == nil:
		case to == catSmall:
			tg.SmallStops++
		default:
			tg.Stops++
		}
		if tg != nil {
			tg.addReason(reasonTally{Loss: loss, N: 1}) // no state, so no code
		}
	}
}

// carveRing moves dur of running time, walking back from minute m.
func (s *station) carveRing(m, dur int64, to cat, loss Loss) {
	for k := 0; k < len(s.S.Ring) && dur > 0; k++ {
		if tg := s.ringAt(m - int64(k)); tg != nil {
			dur -= moveRun(tg, dur, to, loss)
		}
	}
}

// moveRun moves up to d of running time to cat to, a stop of class loss,
// and returns how much.
func moveRun(tg *tally, d int64, to cat, loss Loss) int64 {
	d = min(d, tg.Dur[catRun])
	tg.Dur[catRun] -= d
	tg.Dur[to] += d
	tg.addReason(reasonTally{Loss: loss, Dur: d})
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
