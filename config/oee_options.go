package config

import (
	"time"

	"factorybridge/oee"
)

// OEEOptions describes c's OEE for the engine: every line with stations
// that compute OEE, those stations with their roles resolved to reading
// names, and each line's calendar (named or inline). Call it on a loaded
// config: defaults applied and validated.
func (c *Config) OEEOptions() oee.Options {
	nodes := c.nodesByPlace()
	var opts oee.Options
	for i := range c.Lines {
		if l := &c.Lines[i]; l.OEE != nil {
			opts.Lines = append(opts.Lines, c.oeeLine(l, nodes))
		}
	}
	return opts
}

// oeePlace is a node's line, station and node name.
type oeePlace [3]string

// nodesByPlace indexes every node by its oeePlace.
func (c *Config) nodesByPlace() map[oeePlace]NodeRef {
	m := map[oeePlace]NodeRef{}
	for _, ref := range c.Nodes("") {
		m[oeePlace{ref.Line, ref.Station, ref.Node.Name}] = ref
	}
	return m
}

func (c *Config) oeeLine(l *Line, nodes map[oeePlace]NodeRef) oee.Line {
	o := l.OEE
	ol := oee.Line{Name: l.Name, Convention: oee.Convention(o.Convention), Output: o.Output,
		Calendar: oeeCalendar(c.CalendarOf(o)), Window: o.Window.D(), Interval: o.Interval.D(),
		Unknown: oee.Unknown(o.Unknown)}
	for j := range l.Stations {
		if st := &l.Stations[j]; st.OEE != nil {
			ol.Stations = append(ol.Stations, oeeStation(l.Name, st, nodes))
		}
	}
	return ol
}

func oeeStation(line string, st *Station, nodes map[oeePlace]NodeRef) oee.Station {
	o := st.OEE
	s := oee.Station{Name: st.Name, Preset: oee.Preset(o.Preset), States: o.States.buckets(),
		Roles: oeeRoles(line, st, nodes), IdealCycleTime: o.IdealCycleTime.D(), Products: oeeProducts(o.Products),
		TimeUnit: oeeTimeUnit(o.TimeUnit), SmallStop: DefaultSmallStop, Plausibility: o.Plausibility,
		Reasons: oeeReasons(o.Reasons), Startup: o.Startup.D(),
		Counters: oee.Counters{GoodCount: oee.CounterType(o.Counters.GoodCount), TotalCount: oee.CounterType(o.Counters.TotalCount),
			RejectCount: oee.CounterType(o.Counters.RejectCount), FaultTime: oee.CounterType(o.Counters.FaultTime)}}
	if o.SmallStop != nil {
		s.SmallStop = o.SmallStop.D()
	}
	if len(st.Nodes) > 0 { // a station's nodes share its server
		s.Server = nodes[oeePlace{line, st.Name, st.Nodes[0].Name}].Server
	}
	return s
}

// oeeRoles resolves the node names of a station's roles to reading names.
func oeeRoles(line string, st *Station, nodes map[oeePlace]NodeRef) oee.Roles {
	r := st.OEE.Roles
	name := func(node string) string {
		if node == "" {
			return ""
		}
		return nodes[oeePlace{line, st.Name, node}].Name
	}
	return oee.Roles{State: name(r.State), Mode: name(r.Mode), GoodCount: name(r.GoodCount),
		TotalCount: name(r.TotalCount), RejectCount: name(r.RejectCount), IdealCycleTime: name(r.IdealCycleTime),
		ActualCycleTime: name(r.ActualCycleTime), FaultTime: name(r.FaultTime), Energy: name(r.Energy),
		Product: name(r.Product), StopReason: name(r.StopReason)}
}

func oeeReasons(rs []StopReason) map[string]oee.Reason {
	if len(rs) == 0 {
		return nil
	}
	out := make(map[string]oee.Reason, len(rs))
	for _, r := range rs {
		out[r.Code] = oee.Reason{Name: r.Name, Loss: oee.Loss(r.Loss)}
	}
	return out
}

// buckets turns the lists of values per bucket into one map; nil when
// the lists are empty.
func (m StateMap) buckets() map[int64]oee.Bucket {
	var out map[int64]oee.Bucket
	for _, b := range []struct {
		xs []int64
		b  oee.Bucket
	}{
		{m.Running, oee.BucketRunning}, {m.UnplannedStop, oee.BucketUnplannedStop},
		{m.PlannedStop, oee.BucketPlannedStop}, {m.SmallStop, oee.BucketSmallStop}, {m.Excluded, oee.BucketExcluded},
	} {
		for _, x := range b.xs {
			if out == nil {
				out = map[int64]oee.Bucket{}
			}
			out[x] = b.b
		}
	}
	return out
}

func oeeProducts(ps []Product) map[string]time.Duration {
	if len(ps) == 0 {
		return nil
	}
	out := make(map[string]time.Duration, len(ps))
	for _, p := range ps {
		out[p.ID] = p.IdealCycleTime.D()
	}
	return out
}

func oeeTimeUnit(s string) time.Duration {
	if s == "ms" {
		return time.Millisecond
	}
	return time.Second
}

// oeeCalendar translates a calendar; nil stays nil (24/7).
func oeeCalendar(c *Calendar) *oee.Calendar {
	if c == nil {
		return nil
	}
	out := &oee.Calendar{Zone: c.Zone, Breaks: oeeTimeWindows(c.Breaks), PlannedDowntime: oeeTimeWindows(c.PlannedDowntime)}
	for _, s := range c.Shifts {
		out.Shifts = append(out.Shifts, oee.Shift{Name: s.Name, Days: oeeDays(s.Days), Start: oeeClock(s.Start), End: oeeClock(s.End)})
	}
	return out
}

func oeeTimeWindows(ws []TimeWindow) []oee.TimeWindow {
	var out []oee.TimeWindow
	for _, w := range ws {
		out = append(out, oee.TimeWindow{Shift: w.Shift, Days: oeeDays(w.Days), Start: oeeClock(w.Start), End: oeeClock(w.End)})
	}
	return out
}

func oeeDays(ds []string) []time.Weekday {
	var out []time.Weekday
	for _, d := range ds {
		if wd, ok := parseWeekday(d); ok {
			out = append(out, wd)
		}
	}
	return out
}

// clock is a validated "HH:MM".
func oeeClock(s string) oee.Clock {
	c, _ := oee.ParseClock(s)
	return c
}
