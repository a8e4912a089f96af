package config

import "factorybridge/oee"

// OEE defaults, named beside the types they configure. Where the engine has
// the same default or limit, it is the engine's.
const (
	DefaultOEEConvention  = string(oee.Nakajima)
	DefaultOEEWindow      = oee.DefaultWindow
	DefaultOEEInterval    = oee.DefaultInterval
	DefaultOEEUnknown     = string(oee.UnknownExclude)
	DefaultSmallStop      = oee.DefaultSmallStop
	DefaultCounterType    = string(oee.CounterUint64)
	DefaultTimeUnit       = "s"
	DefaultPlausibility   = oee.DefaultPlausibility
	DefaultCalendarZone   = "UTC"
	maxSmallStop          = oee.MaxSmallStop
	maxOEEWindow          = oee.MaxWindow
	minOEEInterval        = oee.MinInterval
	oeeWindowGranularity  = oee.WindowGranularity
	minPlausibilityFactor = oee.MinPlausibility
	maxStartup            = oee.MaxStartup
)

// The valid values of the enumerated OEE settings.
var (
	oeeConventions = []string{string(oee.Nakajima), string(oee.ISO22400)}
	oeeUnknowns    = []string{string(oee.UnknownExclude), string(oee.UnknownUnplannedStop)}
	oeePresets     = oeeStrings(oee.Presets())
	counterTypes   = oeeStrings(oee.CounterTypes())
	lossClasses    = oeeStrings(oee.LossClasses())
	timeUnits      = []string{"s", "ms"}
	weekdays       = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
)

func oeeStrings[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// LineOEE configures how a line's OEE is computed: [lines.oee]. A line
// whose stations have no [lines.stations.oee] computes none.
type LineOEE struct {
	// Convention: "nakajima" (default; planned production time = shift −
	// breaks, micro-stops are a performance loss) or "iso22400" (planned busy
	// time = shift − breaks − planned downtime, micro-stops are delays).
	Convention string `toml:"convention"`
	// Output names the station whose good count is the line's output;
	// default the last station with OEE configured.
	Output string `toml:"output"`
	// Calendar names a [[calendars]] entry. Leave it out and set Zone,
	// Shifts, Breaks and PlannedDowntime here for an inline calendar; with
	// neither, the line is planned 24/7 (one "day" shift per UTC day).
	Calendar        string       `toml:"calendar"`
	Zone            string       `toml:"zone"`
	Shifts          []Shift      `toml:"shifts"`
	Breaks          []TimeWindow `toml:"breaks"`
	PlannedDowntime []TimeWindow `toml:"planned_downtime"`
	// Window is the rolling window's length, whole minutes (default 1 h);
	// Interval how often rolling and shift-to-date records are made (10 s).
	Window   Duration `toml:"window"`
	Interval Duration `toml:"interval"`
	// Unknown says what time without data counts as: "exclude" (default:
	// left out of availability, published as its own figure) or
	// "unplanned_stop".
	Unknown string `toml:"unknown"`
}

// Calendar is a named shift calendar shared by lines: [[calendars]].
type Calendar struct {
	Name string `toml:"name"`
	// Zone is an IANA time zone ("Europe/Berlin"); shift times are wall
	// clock times in it. Default "UTC".
	Zone string `toml:"zone"`
	// Shifts, breaks and planned downtime, wall clock in Zone.
	Shifts          []Shift      `toml:"shifts"`
	Breaks          []TimeWindow `toml:"breaks"`
	PlannedDowntime []TimeWindow `toml:"planned_downtime"`
}

// Shift is one recurring shift. A shift whose end is not after its start
// crosses midnight and belongs to the production day it starts on; start ==
// end is a 24-hour shift.
type Shift struct {
	Name string `toml:"name"`
	// Days the shift starts on: "mon" … "sun"; empty means every day.
	Days  []string `toml:"days"`
	Start string   `toml:"start"` // "HH:MM"
	End   string   `toml:"end"`   // "HH:MM"
}

// TimeWindow is a recurring break or planned downtime inside shifts.
type TimeWindow struct {
	// Shift limits the window to the shift of that name; "" means every shift.
	Shift string `toml:"shift"`
	// Days limits the window to shifts starting on these days; empty: all.
	Days  []string `toml:"days"`
	Start string   `toml:"start"` // "HH:MM"
	End   string   `toml:"end"`   // "HH:MM"
}

// StationOEE says which of a station's nodes play which role in OEE and how
// to read them: [lines.stations.oee].
type StationOEE struct {
	// Preset maps state values to buckets: "connected-factory", "packml"
	// or "machinery". States adds to or overrides it; with no preset,
	// States is the whole map.
	Preset string   `toml:"preset"`
	States StateMap `toml:"states"`
	// Roles names the station's nodes (by their name) that carry each role.
	Roles Roles `toml:"roles"`
	// Counters declares each counter's PLC type (default "uint64").
	Counters CounterTypes `toml:"counters"`
	// IdealCycleTime is the constant ideal cycle time, used until the
	// ideal_cycle_time node or a product sets another.
	IdealCycleTime Duration `toml:"ideal_cycle_time"`
	// Products give the ideal cycle time per value of the product node.
	Products []Product `toml:"products"`
	// TimeUnit of the time-valued nodes (cycle times, fault time): "s"
	// (default) or "ms" (Connected Factory).
	TimeUnit string `toml:"time_unit"`
	// SmallStop: unplanned stops shorter than this are small stops, a
	// performance loss (default 2 min; 0 turns small stops off).
	SmallStop *Duration `toml:"small_stop"`
	// Plausibility is how many times faster than the ideal cycle a counter
	// may count before a delta is rejected as implausible (default 2).
	Plausibility float64 `toml:"plausibility"`
	// Reasons names stop reason codes and gives their loss class. A code is
	// the stop_reason node's value as text, or the state's value for stops
	// the node gives no reason for (docs/oee.md, "Stop reasons").
	Reasons []StopReason `toml:"reasons"`
	// Startup: rejects within this long after a stop are startup rejects
	// (default 0: none are).
	Startup Duration `toml:"startup"`
}

// StopReason is one entry of a station's reason table.
type StopReason struct {
	Code string `toml:"code"`
	Name string `toml:"name"`
	// Loss: breakdown, material_shortage, setup, planned_stop or
	// small_stop; default: the class of the stop's bucket.
	Loss string `toml:"loss"`
}

// StateMap lists the state values that fall in each bucket.
type StateMap struct {
	Running       []int64 `toml:"running"`
	UnplannedStop []int64 `toml:"unplanned_stop"`
	PlannedStop   []int64 `toml:"planned_stop"`
	SmallStop     []int64 `toml:"small_stop"`
	Excluded      []int64 `toml:"excluded"`
}

// Roles names the nodes of a station by role; "" means the station has no
// node for it. Give good_count or total_count, with or without reject_count.
type Roles struct {
	State           string `toml:"state"`
	Mode            string `toml:"mode"` // machinery preset: the operation mode
	GoodCount       string `toml:"good_count"`
	TotalCount      string `toml:"total_count"`
	RejectCount     string `toml:"reject_count"`
	IdealCycleTime  string `toml:"ideal_cycle_time"`
	ActualCycleTime string `toml:"actual_cycle_time"`
	FaultTime       string `toml:"fault_time"`
	Energy          string `toml:"energy"`
	Product         string `toml:"product"`
	StopReason      string `toml:"stop_reason"` // the node holding the current stop's reason code
}

// CounterTypes is the PLC type of each counter: int16, uint16, int32,
// uint32, int64 or uint64. It sets the wrap-around point.
type CounterTypes struct {
	GoodCount   string `toml:"good_count"`
	TotalCount  string `toml:"total_count"`
	RejectCount string `toml:"reject_count"`
	FaultTime   string `toml:"fault_time"`
}

// Product is one product's ideal cycle time.
type Product struct {
	// ID is the product node's value, as text ("7", "A-100").
	ID             string   `toml:"id"`
	IdealCycleTime Duration `toml:"ideal_cycle_time"`
}

// CalendarOf returns the calendar a line's OEE uses: the named one, the
// inline one, or nil for 24/7.
func (c *Config) CalendarOf(l *LineOEE) *Calendar {
	if l == nil {
		return nil
	}
	if l.Calendar != "" {
		for i := range c.Calendars {
			if c.Calendars[i].Name == l.Calendar {
				return &c.Calendars[i]
			}
		}
		return nil
	}
	if l.Zone == "" && len(l.Shifts) == 0 {
		return nil
	}
	return &Calendar{Name: "", Zone: l.Zone, Shifts: l.Shifts, Breaks: l.Breaks, PlannedDowntime: l.PlannedDowntime}
}

// applyOEEDefaults gives a line with OEE stations its [lines.oee] defaults.
func (l *Line) applyOEEDefaults() {
	var output string
	for _, st := range l.Stations {
		if st.OEE != nil {
			st.OEE.applyDefaults()
			output = st.Name
		}
	}
	if output == "" {
		return
	}
	if l.OEE == nil {
		l.OEE = &LineOEE{}
	}
	o := l.OEE
	setDefault(&o.Convention, DefaultOEEConvention)
	setDefault(&o.Output, output)
	setDefault(&o.Window, Duration(DefaultOEEWindow))
	setDefault(&o.Interval, Duration(DefaultOEEInterval))
	setDefault(&o.Unknown, DefaultOEEUnknown)
	if o.Calendar == "" && len(o.Shifts) > 0 {
		setDefault(&o.Zone, DefaultCalendarZone)
	}
}

func (s *StationOEE) applyDefaults() {
	for _, f := range []*string{&s.Counters.GoodCount, &s.Counters.TotalCount, &s.Counters.RejectCount, &s.Counters.FaultTime} {
		setDefault(f, DefaultCounterType)
	}
	setDefault(&s.TimeUnit, DefaultTimeUnit)
	setDefault(&s.Plausibility, DefaultPlausibility)
	if s.SmallStop == nil { // a pointer, so that "0s" (no small stops) is kept
		d := Duration(DefaultSmallStop)
		s.SmallStop = &d
	}
}
