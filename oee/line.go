package oee

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// period is an hour or a shift being tallied until it closes.
type period struct {
	Kind       Kind
	Name, Day  string // shift name and production day (shift periods and hours in a shift)
	Start, End int64
	St         []tally // per station, in line order
}

// minuteInfo is what the calendar says about one minute, with the
// periods that minute belongs to.
type minuteInfo struct {
	min   int64
	sched schedule
	shift *period
	hour  *period
}

// line holds a line's stations, calendar and open periods.
type line struct {
	name      string
	iso       bool // ISO 22400 rather than Nakajima
	unknownUS bool // unknown time counts as unplanned stop
	cal       *calendar
	cache     []shiftInst
	stations  []*station
	output    int
	window    int64 // rolling window, whole minutes, ns
	interval  int64
	mi        minuteInfo
	S         lineState
}

// lineState is the part of a line MarshalBinary persists.
type lineState struct {
	Open      []*period
	LastStart [2]int64 // start of the latest period created, per kind (hour, shift)
	NextEmit  int64    // when rolling and shift-to-date records are next due
}

// ringSlack keeps enough minutes beyond the window for a pending stop,
// at most MaxSmallStop long, to be classified in every minute it spans.
const ringSlack = int(MaxSmallStop/time.Minute) + 2

func newLine(o *Line) (*line, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	cal, err := newCalendar(o.Calendar)
	if err != nil {
		return nil, err
	}
	ln := &line{name: o.Name, iso: o.Convention == ISO22400, unknownUS: o.Unknown == UnknownUnplannedStop,
		cal: cal, window: int64(cmp.Or(o.Window, DefaultWindow)), interval: int64(cmp.Or(o.Interval, DefaultInterval))}
	ln.mi.min = -1 << 62
	ln.output = len(o.Stations) - 1
	if o.Output != "" {
		ln.output = slices.IndexFunc(o.Stations, func(s Station) bool { return s.Name == o.Output })
	}
	ringLen := int(ln.window/minute) + ringSlack
	for i := range o.Stations {
		st, err := newStation(ln, i, &o.Stations[i], ringLen)
		if err != nil {
			return nil, fmt.Errorf("station %s: %w", o.Stations[i].Name, err)
		}
		ln.stations = append(ln.stations, st)
	}
	return ln, nil
}

// check rejects what the engine cannot compute with.
func (o *Line) check() error {
	switch {
	case len(o.Stations) == 0:
		return errors.New("no station computes OEE")
	case o.Convention != "" && o.Convention != Nakajima && o.Convention != ISO22400:
		return fmt.Errorf("unknown convention %q", o.Convention)
	case o.Unknown != "" && o.Unknown != UnknownExclude && o.Unknown != UnknownUnplannedStop:
		return fmt.Errorf("unknown unknown-time policy %q", o.Unknown)
	case o.Window < 0 || o.Window > MaxWindow || o.Window%WindowGranularity != 0:
		return fmt.Errorf("window %s is not whole minutes up to %s", o.Window, MaxWindow)
	case o.Interval < 0:
		return fmt.Errorf("interval %s is negative", o.Interval)
	case o.Output != "" && !slices.ContainsFunc(o.Stations, func(s Station) bool { return s.Name == o.Output }):
		return fmt.Errorf("output %q is not a station of the line", o.Output)
	}
	return nil
}

// minute returns the calendar's view of the minute holding t, cached
// because every reading in the same minute asks the same question.
func (l *line) minute(t int64) *minuteInfo {
	m := floorDiv(t, minute)
	if m == l.mi.min {
		return &l.mi
	}
	sched, si := l.cal.at(m*minute, &l.cache)
	l.mi = minuteInfo{min: m, sched: sched}
	if si != nil {
		l.mi.shift = l.period(KindShift, si.start, si.end, si)
		hs := l.cal.hourStart(m * minute)
		l.mi.hour = l.period(KindHour, hs, hs+int64(60*minute), si)
	}
	return &l.mi
}

// period returns the open period of kind that starts at start, opening it
// when it is new; nil when it closed already (data that came too late).
func (l *line) period(k Kind, start, end int64, si *shiftInst) *period {
	for _, p := range l.S.Open {
		if p.Kind == k && p.Start == start {
			return p
		}
	}
	ki := kindIndex(k)
	if start <= l.S.LastStart[ki] {
		return nil
	}
	l.S.LastStart[ki] = start
	p := &period{Kind: k, Name: si.name, Day: si.day, Start: start, End: end, St: make([]tally, len(l.stations))}
	l.S.Open = append(l.S.Open, p)
	return p
}

func kindIndex(k Kind) int {
	if k == KindHour {
		return 0
	}
	return 1
}

// tick accounts every station up to now and appends the records due.
func (l *line) tick(now int64, dst []Record) []Record {
	for _, s := range l.stations {
		s.advance(now)
	}
	dst = l.closeDue(now, dst)
	if now >= l.S.NextEmit {
		l.S.NextEmit = (floorDiv(now, l.interval) + 1) * l.interval
		dst = l.live(now, dst)
	}
	return dst
}

// closeDue emits and forgets every period that has ended and holds no
// stop still waiting to be classified, so a closed record is final.
func (l *line) closeDue(now int64, dst []Record) []Record {
	keep := l.S.Open[:0]
	for _, p := range l.S.Open {
		if p.End > now || l.pendingBefore(p.End) {
			keep = append(keep, p)
			continue
		}
		dst = l.records(p.Kind, p.Name, p.Day, p.Start, p.End, p.St, dst)
	}
	clear(l.S.Open[len(keep):])
	l.S.Open = keep
	l.mi.min = -1 << 62 // the cache may point at a closed period
	return dst
}

func (l *line) pendingBefore(t int64) bool {
	return slices.ContainsFunc(l.stations, func(s *station) bool {
		return s.S.Pending && s.S.PendingStart < t || s.undecidedBefore(t)
	})
}

// live appends the rolling-window and shift-to-date records at now.
func (l *line) live(now int64, dst []Record) []Record {
	last := floorDiv(now-1, minute)
	first := last - l.window/minute + 1
	sums := make([]tally, len(l.stations))
	for i, s := range l.stations {
		for m := first; m <= last; m++ {
			if j := floorMod(m, int64(len(s.S.Ring))); s.S.RingMin[j] == m {
				sums[i].add(&s.S.Ring[j])
			}
		}
	}
	dst = l.records(KindRolling, "", "", first*minute, now, sums, dst)
	if p := l.minute(now - 1).shift; p != nil {
		dst = l.records(KindShiftToDate, p.Name, p.Day, p.Start, now, p.St, dst)
	}
	return dst
}
