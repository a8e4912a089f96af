package oee

import (
	"fmt"
	"time"
)

// calendar is a line's compiled shift calendar.
type calendar struct {
	loc      *time.Location
	shifts   []shiftDef
	breaks   []windowDef
	downtime []windowDef
}

type shiftDef struct {
	name       string
	days       uint8 // bit per time.Weekday; 0 means every day
	start, end int   // minutes after midnight, wall clock
}

type windowDef struct {
	shift      string // "" for every shift
	days       uint8
	start, end int
}

// shiftInst is one shift on one production day, as UTC instants (Unix ns).
type shiftInst struct {
	name, day  string
	start, end int64
	breaks     [][2]int64
	downtime   [][2]int64
}

// Clock is a wall clock time of day in minutes after midnight, from 0
// (00:00) to 1439 (23:59).
type Clock int

// ParseClock parses "HH:MM", 00:00 to 23:59.
func ParseClock(s string) (Clock, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return Clock(t.Hour()*60 + t.Minute()), true
}

// String formats c as "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c/60, c%60) }

func (c Clock) valid() bool { return c >= 0 && c < 24*60 }

// newCalendar compiles a calendar; nil means 24/7 in UTC, one "day" shift
// per day.
func newCalendar(c *Calendar) (*calendar, error) {
	if c == nil {
		return &calendar{loc: time.UTC, shifts: []shiftDef{{name: "day"}}}, nil
	}
	loc, err := time.LoadLocation(c.Zone)
	if err != nil {
		return nil, fmt.Errorf("load time zone %q: %w", c.Zone, err)
	}
	cal := &calendar{loc: loc}
	for _, s := range c.Shifts {
		def := shiftDef{name: s.Name, start: int(s.Start), end: int(s.End)}
		if def.days, err = dayBits(s.Days, s.Start, s.End); err != nil {
			return nil, fmt.Errorf("shift %s: %w", s.Name, err)
		}
		cal.shifts = append(cal.shifts, def)
	}
	if cal.breaks, err = windowDefs(c.Breaks); err != nil {
		return nil, err
	}
	cal.downtime, err = windowDefs(c.PlannedDowntime)
	return cal, err
}

func windowDefs(ws []TimeWindow) ([]windowDef, error) {
	var out []windowDef
	for _, w := range ws {
		def := windowDef{shift: w.Shift, start: int(w.Start), end: int(w.End)}
		var err error
		if def.days, err = dayBits(w.Days, w.Start, w.End); err != nil {
			return nil, fmt.Errorf("window %s–%s: %w", w.Start, w.End, err)
		}
		out = append(out, def)
	}
	return out, nil
}

// dayBits sets a bit per weekday, after checking the clocks of the span
// they go with.
func dayBits(days []time.Weekday, start, end Clock) (uint8, error) {
	if !start.valid() || !end.valid() {
		return 0, fmt.Errorf("clock out of range (valid: 0 to %d minutes)", 24*60-1)
	}
	var b uint8
	for _, d := range days {
		if d < time.Sunday || d > time.Saturday {
			return 0, fmt.Errorf("weekday %d out of range", d)
		}
		b |= 1 << d
	}
	return b, nil
}

func onDay(bits uint8, wd time.Weekday) bool { return bits == 0 || bits&(1<<wd) != 0 }

// wall returns the instant of a wall clock time minutes after midnight of
// the day y-m-d (d may overflow), in Unix ns. Go resolves a time that does
// not exist (spring forward) by the offset before the switch.
func (c *calendar) wall(y int, m time.Month, d, minutes int) int64 {
	return time.Date(y, m, d, minutes/60, minutes%60, 0, 0, c.loc).UnixNano()
}

// day returns the shift instances that start on production day y-m-d.
func (c *calendar) day(y int, m time.Month, d int) []shiftInst {
	date := time.Date(y, m, d, 12, 0, 0, 0, c.loc)
	wd, label := date.Weekday(), date.Format(time.DateOnly)
	var out []shiftInst
	for _, s := range c.shifts {
		if !onDay(s.days, wd) {
			continue
		}
		endDay := d
		if s.end <= s.start {
			endDay++ // crosses midnight, or 24 hours when start == end
		}
		si := shiftInst{name: s.name, day: label, start: c.wall(y, m, d, s.start), end: c.wall(y, m, endDay, s.end)}
		si.breaks = c.windows(c.breaks, s, wd, y, m, d)
		si.downtime = c.windows(c.downtime, s, wd, y, m, d)
		out = append(out, si)
	}
	return out
}

// windows places the recurring windows of shift s on its day, clipped to it.
func (c *calendar) windows(ws []windowDef, s shiftDef, wd time.Weekday, y int, m time.Month, d int) [][2]int64 {
	var out [][2]int64
	for _, w := range ws {
		if w.shift != "" && w.shift != s.name || !onDay(w.days, wd) {
			continue
		}
		startDay := d
		if w.start < s.start {
			startDay++ // after midnight in a night shift
		}
		endDay := startDay
		if w.end <= w.start {
			endDay++
		}
		out = append(out, [2]int64{c.wall(y, m, startDay, w.start), c.wall(y, m, endDay, w.end)})
	}
	return out
}

// schedule says what the calendar plans for one minute.
type schedule uint8

const (
	schedOff      schedule = iota // outside every shift
	schedOn                       // planned production
	schedBreak                    // a break inside a shift
	schedDowntime                 // planned downtime inside a shift
)

// at returns the schedule at instant t and the shift instance holding it.
func (c *calendar) at(t int64, cache *[]shiftInst) (schedule, *shiftInst) {
	c.fill(t, cache)
	for i := range *cache {
		si := &(*cache)[i]
		if t < si.start || t >= si.end {
			continue
		}
		switch {
		case within(t, si.breaks):
			return schedBreak, si
		case within(t, si.downtime):
			return schedDowntime, si
		}
		return schedOn, si
	}
	return schedOff, nil
}

// fill makes cache hold the shifts of the day before t's day to the day
// after, where every shift that can contain t starts.
func (c *calendar) fill(t int64, cache *[]shiftInst) {
	if n := len(*cache); n > 0 && t >= (*cache)[0].start && t < (*cache)[n-1].start {
		return
	}
	lt := time.Unix(0, t).In(c.loc)
	y, m, d := lt.Date()
	*cache = (*cache)[:0]
	for k := -1; k <= 1; k++ {
		*cache = append(*cache, c.day(y, m, d+k)...)
	}
}

func within(t int64, ws [][2]int64) bool {
	for _, w := range ws {
		if t >= w[0] && t < w[1] {
			return true
		}
	}
	return false
}

// hourStart returns the start of the wall clock hour holding t, which
// stays right in the repeated hour of a fall-back night.
func (c *calendar) hourStart(t int64) int64 {
	_, off := time.Unix(0, t).In(c.loc).Zone()
	local := t + int64(off)*int64(time.Second)
	return local - local%int64(time.Hour) - int64(off)*int64(time.Second)
}
