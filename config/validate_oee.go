package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"factorybridge/oee"
)

// oee checks the calendars and every line's and station's OEE settings.
func (v checker) oee(c *Config) {
	seen := map[string]string{}
	for i, cal := range c.Calendars {
		path := fmt.Sprintf("calendars[%d]", i)
		if v.required(path+".name", cal.Name, "") {
			v.unique(path+".name", cal.Name, seen)
		}
		v.calendar(path, cal.Zone, cal.Shifts, cal.Breaks, cal.PlannedDowntime)
	}
	for i := range c.Lines {
		v.lineOEE(c, fmt.Sprintf("lines[%d]", i), &c.Lines[i])
	}
}

func (v checker) lineOEE(c *Config, path string, l *Line) {
	stations := 0
	for j, st := range l.Stations {
		if st.OEE != nil {
			v.stationOEE(fmt.Sprintf("%s.stations[%d].oee", path, j), st)
			stations++
		}
	}
	o := l.OEE
	if o == nil {
		return
	}
	path += ".oee"
	if stations == 0 {
		v.r.add(path, "set, but no station of the line has [lines.stations.oee] (valid: add roles to at least one station)")
	}
	v.oneOf(path+".convention", o.Convention, "convention", oeeConventions)
	v.oneOf(path+".unknown", o.Unknown, "unknown-time policy", oeeUnknowns)
	v.output(path+".output", o.Output, l)
	v.window(path, o.Window, o.Interval)
	v.calendarRef(c, path, o)
}

func (v checker) output(path, output string, l *Line) {
	var valid []string
	for _, st := range l.Stations {
		if st.OEE != nil {
			valid = append(valid, st.Name)
		}
	}
	if !slices.Contains(valid, output) {
		v.r.add(path, "%q is not a station with OEE in this line (valid: %s)", output, strings.Join(valid, ", "))
	}
}

func (v checker) window(path string, window, interval Duration) {
	v.durationIn(path+".window", window, oeeWindowGranularity, maxOEEWindow)
	if window.D()%oeeWindowGranularity != 0 {
		v.r.add(path+".window", "%s is not whole minutes (valid: e.g. \"60m\")", window.D())
	}
	v.durationIn(path+".interval", interval, minOEEInterval, window.D())
}

// calendarRef checks that a line names a calendar or writes one inline, not both.
func (v checker) calendarRef(c *Config, path string, o *LineOEE) {
	inline := o.Zone != "" || len(o.Shifts) > 0 || len(o.Breaks) > 0 || len(o.PlannedDowntime) > 0
	if o.Calendar == "" {
		if inline {
			v.calendar(path, o.Zone, o.Shifts, o.Breaks, o.PlannedDowntime)
		}
		return
	}
	if inline {
		v.r.add(path+".calendar", "set together with an inline calendar (valid: either calendar = name, or zone, shifts, breaks and planned_downtime)")
	}
	var names []string
	for _, cal := range c.Calendars {
		names = append(names, cal.Name)
	}
	switch {
	case len(names) == 0:
		v.r.add(path+".calendar", "%q is not a configured calendar (valid: a [[calendars]] name; there are none)", o.Calendar)
	case !slices.Contains(names, o.Calendar):
		v.r.add(path+".calendar", "%q is not a configured calendar (valid: %s)", o.Calendar, strings.Join(names, ", "))
	}
}

// calendar checks a zone and its shifts, breaks and planned downtime.
func (v checker) calendar(path, zone string, shifts []Shift, breaks, down []TimeWindow) {
	if v.required(path+".zone", zone, `an IANA time zone, e.g. "Europe/Berlin"`) {
		if _, err := time.LoadLocation(zone); err != nil {
			v.r.add(path+".zone", "%q is not a known time zone (valid: an IANA name, e.g. \"Europe/Berlin\")", zone)
		}
	}
	if len(shifts) == 0 {
		v.r.add(path+".shifts", "at least one [[shifts]] entry is required")
	}
	seen := map[string]string{}
	var names []string
	for i, s := range shifts {
		sp := fmt.Sprintf("%s.shifts[%d]", path, i)
		if v.name(sp+".name", s.Name) && v.unique(sp+".name", s.Name, seen) {
			names = append(names, s.Name)
		}
		v.days(sp+".days", s.Days)
		v.clock(sp+".start", s.Start)
		v.clock(sp+".end", s.End)
	}
	v.windows(path+".breaks", breaks, names)
	v.windows(path+".planned_downtime", down, names)
}

func (v checker) windows(path string, ws []TimeWindow, shifts []string) {
	for i, w := range ws {
		wp := fmt.Sprintf("%s[%d]", path, i)
		if w.Shift != "" && !slices.Contains(shifts, w.Shift) {
			v.r.add(wp+".shift", "%q is not a shift of this calendar (valid: %s)", w.Shift, strings.Join(shifts, ", "))
		}
		v.days(wp+".days", w.Days)
		okStart, okEnd := v.clock(wp+".start", w.Start), v.clock(wp+".end", w.End)
		if okStart && okEnd && w.Start == w.End {
			v.r.add(wp+".end", "%q is the start too (valid: a window of at least one minute)", w.End)
		}
	}
}

func (v checker) days(path string, days []string) {
	for i, d := range days {
		v.oneOf(fmt.Sprintf("%s[%d]", path, i), d, "day", weekdays)
	}
}

// clock checks a wall clock time "HH:MM" and reports whether it is valid.
func (v checker) clock(path, s string) bool {
	if !v.required(path, s, `"HH:MM", 00:00 to 23:59`) {
		return false
	}
	if _, ok := oee.ParseClock(s); !ok {
		v.r.add(path, "%q is not a time of day (valid: \"HH:MM\", 00:00 to 23:59)", s)
		return false
	}
	return true
}

// parseWeekday parses "sun" … "sat".
func parseWeekday(s string) (time.Weekday, bool) {
	i := slices.Index(weekdays, s)
	return time.Weekday(i), i >= 0
}
