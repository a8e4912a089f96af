package oee

import "time"

// Defaults and limits of the engine's settings. The engine applies the
// defaults to zero values; the limits are what it is built for, and what
// a configuration is checked against.
const (
	// DefaultWindow is the rolling window of a Line with Window zero.
	DefaultWindow = time.Hour
	// DefaultInterval is how often a Line with Interval zero makes its
	// rolling and shift-to-date records.
	DefaultInterval = 10 * time.Second
	// DefaultPlausibility is the factor of a Station with Plausibility zero.
	DefaultPlausibility = 2.0
	// DefaultSmallStop is the small-stop threshold configurations use when
	// they name none. The engine does not apply it: SmallStop zero means no
	// small stops.
	DefaultSmallStop = 2 * time.Minute

	// WindowGranularity: the rolling window is whole minutes, because the
	// engine keeps it as a ring of per-minute tallies.
	WindowGranularity = time.Minute
	// MaxWindow bounds the ring, and so the memory a station takes.
	MaxWindow = 24 * time.Hour
	// MinInterval is the shortest useful record interval: the caller ticks
	// the engine once a second.
	MinInterval = time.Second
	// MaxSmallStop bounds the threshold: the ring keeps ringSlack minutes
	// beyond the window so a stop pending that long is classified in every
	// minute it spans.
	MaxSmallStop = 30 * time.Minute
	// MinPlausibility: a counter may always count as fast as its ideal cycle.
	MinPlausibility = 1.0
	// MaxStopGap is the longest data gap a stop continues across: a
	// station back in the same stop state within it is still in the same
	// stop; after a longer gap it is a new one. A stop waiting across a gap
	// holds back closed records by at most this long.
	MaxStopGap = 30 * time.Minute
	// MaxStartup bounds Station.Startup.
	MaxStartup = time.Hour
)

// Options describes what an engine computes: its lines, their stations and
// calendars, with every name already resolved. The zero Options computes
// nothing.
type Options struct {
	// Lines are the lines that compute OEE, in the order records are made.
	Lines []Line
}

// Convention is how OEE's time model is drawn.
type Convention string

// The conventions. The zero Convention is Nakajima.
const (
	// Nakajima: planned production time is shift − breaks; small stops are
	// a performance loss; planned downtime is a planned stop.
	Nakajima Convention = "nakajima"
	// ISO22400: planned busy time is shift − breaks − planned downtime;
	// small stops are delays.
	ISO22400 Convention = "iso22400"
)

// Unknown is what time without data counts as.
type Unknown string

// The unknown-time policies. The zero Unknown is UnknownExclude.
const (
	// UnknownExclude leaves unknown time out of availability; records
	// publish it as a figure of its own.
	UnknownExclude Unknown = "exclude"
	// UnknownUnplannedStop counts unknown time as unplanned stop.
	UnknownUnplannedStop Unknown = "unplanned_stop"
)

// Line is one production line.
type Line struct {
	// Name is the line's name in records and in reading names.
	Name string
	// Convention is the time model; zero is Nakajima.
	Convention Convention
	// Output names the station whose good count is the line's output; ""
	// means the last station.
	Output string
	// Calendar plans the line's production time; nil means 24/7 in UTC,
	// one "day" shift per day.
	Calendar *Calendar
	// Window is the rolling window's length, whole minutes up to
	// MaxWindow; zero means DefaultWindow.
	Window time.Duration
	// Interval is how often rolling and shift-to-date records are made;
	// zero means DefaultInterval.
	Interval time.Duration
	// Unknown says what time without data counts as; zero is UnknownExclude.
	Unknown Unknown
	// Stations are the line's stations that compute OEE, at least one.
	Stations []Station
}

// Station is one station of a line and the nodes that feed its OEE.
type Station struct {
	// Name is the station's name in records and in reading names.
	Name string
	// Server names the OPC UA server the station's nodes live on, for
	// ServerConnected and ServerDisconnected.
	Server string
	// Preset maps state values to buckets; zero means none, and States is
	// the whole map.
	Preset Preset
	// States maps state values to buckets, adding to or overriding the
	// preset's. With PresetMachinery a key is a MachineryItemState, taken
	// in the Processing operation mode.
	States map[int64]Bucket
	// Roles names the readings that carry each role.
	Roles Roles
	// Counters gives each counter's PLC type, which sets its wrap-around.
	Counters Counters
	// IdealCycleTime is the ideal cycle time until the ideal cycle time
	// node or a product sets another; zero means none yet.
	IdealCycleTime time.Duration
	// Products maps a value of the product node, as text, to its ideal
	// cycle time; nil means none.
	Products map[string]time.Duration
	// TimeUnit is the unit of time-valued nodes (cycle times, fault time);
	// zero means a second.
	TimeUnit time.Duration
	// SmallStop: unplanned stops shorter than this are small stops; zero
	// means no small stops. At most MaxSmallStop.
	SmallStop time.Duration
	// Plausibility is how many times faster than the ideal cycle a counter
	// may count before a delta is rejected as implausible; zero means
	// DefaultPlausibility.
	Plausibility float64
	// Reasons maps a stop reason code to its name and loss class. A code is
	// the stop_reason node's value as text, or, for a stop the node gives
	// no reason for (no node, 0 or empty), the state's value ("4"; with
	// PresetMachinery "item state/mode", e.g. "2/3"). Nil means codes are
	// published without names, their loss class from their bucket.
	Reasons map[string]Reason
	// Startup is how long after a stop (planned, or unplanned at least the
	// small-stop threshold long) rejects count as startup rejects rather
	// than production rejects; zero means none do. At most MaxStartup.
	Startup time.Duration
}

// Reason names a stop reason code and says which loss it is.
type Reason struct {
	// Name is the reason's name in records; "" publishes the code alone.
	Name string
	// Loss is the loss class of stops with this reason; zero means the
	// class of the stop's bucket (see Loss).
	Loss Loss
}

// Loss is the class of loss a stop belongs to: the six big losses where
// they can be told apart from the data.
type Loss string

// The loss classes a reason can name. Whatever a reason says, a stop shorter
// than the small-stop threshold (or in a small-stop state) is a small stop,
// because it is a performance loss; an availability loss takes its reason's
// class, or breakdown (unplanned stops) and planned stop (planned stops)
// without one.
const (
	LossBreakdown        Loss = "breakdown"
	LossMaterialShortage Loss = "material_shortage" // starved or blocked
	LossSetup            Loss = "setup"             // setup, changeover, adjustment
	LossPlannedStop      Loss = "planned_stop"      // cleaning, planned maintenance, …
	LossSmallStop        Loss = "small_stop"
)

// LossClasses lists the loss classes a reason may name, for validation messages.
func LossClasses() []Loss {
	return []Loss{LossBreakdown, LossMaterialShortage, LossSetup, LossPlannedStop, LossSmallStop}
}

// Roles holds, for each role, the full name of the reading that carries
// it ("line/station/node", with the site in front when there is one); ""
// means the station has no node for the role. A station needs good or
// total count, and state or fault time.
type Roles struct {
	State           string
	Mode            string // the MachineryOperationMode, with PresetMachinery
	GoodCount       string
	TotalCount      string
	RejectCount     string
	IdealCycleTime  string
	ActualCycleTime string
	FaultTime       string
	Energy          string
	Product         string
	StopReason      string // a node holding the reason code of the current stop
}

// byRole lists the reading names in role order.
func (r *Roles) byRole() [numRoles]string {
	return [numRoles]string{
		roleState: r.State, roleMode: r.Mode, roleGood: r.GoodCount, roleTotal: r.TotalCount,
		roleReject: r.RejectCount, roleIdeal: r.IdealCycleTime, roleActual: r.ActualCycleTime,
		roleFault: r.FaultTime, roleEnergy: r.Energy, roleProduct: r.Product, roleReason: r.StopReason,
	}
}

// CounterType is a counter's PLC type.
type CounterType string

// The counter types. The zero CounterType is CounterUint64.
const (
	CounterInt16  CounterType = "int16"
	CounterUint16 CounterType = "uint16"
	CounterInt32  CounterType = "int32"
	CounterUint32 CounterType = "uint32"
	CounterInt64  CounterType = "int64"
	CounterUint64 CounterType = "uint64"
)

// CounterTypes lists the counter types, for validation messages.
func CounterTypes() []CounterType {
	return []CounterType{CounterInt16, CounterUint16, CounterInt32, CounterUint32, CounterInt64, CounterUint64}
}

// Counters gives the PLC type of each counter a station may have.
type Counters struct {
	GoodCount, TotalCount, RejectCount, FaultTime CounterType
}

// Calendar is a line's shift calendar.
type Calendar struct {
	// Zone is an IANA time zone ("Europe/Berlin"), in which the clocks
	// below are wall clock times; "" means UTC.
	Zone string
	// Shifts are the recurring shifts; time outside them is not planned.
	Shifts []Shift
	// Breaks and PlannedDowntime are recurring windows inside shifts.
	Breaks, PlannedDowntime []TimeWindow
}

// Shift is one recurring shift. A shift whose end is not after its start
// crosses midnight and belongs to the production day it starts on; start ==
// end is a 24-hour shift.
type Shift struct {
	Name string
	// Days are the days the shift starts on; nil means every day.
	Days       []time.Weekday
	Start, End Clock
}

// TimeWindow is a recurring break or planned downtime inside shifts.
type TimeWindow struct {
	// Shift limits the window to the shift of that name; "" means every shift.
	Shift string
	// Days limits the window to shifts starting on these days; nil means all.
	Days       []time.Weekday
	Start, End Clock
}
