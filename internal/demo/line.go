// Package demo provides what `factorybridge demo` runs besides the bridge: a
// simulated Connected Factory line (Line), an embedded OPC UA server that
// serves it (StartOPCUAServer), an embedded MQTT broker (StartBroker) and the
// bridge configuration that ties them together (Config). Everything listens
// on loopback only and needs no outside service.
package demo

import (
	"math"
	"math/rand/v2"
	"time"
)

// Status is a station's state as published in its Status variable (Int32).
type Status int32

// The Connected Factory station states.
const (
	StatusReady          Status = 0
	StatusWorkInProgress Status = 1
	StatusDone           Status = 2
	StatusDiscarded      Status = 3
	StatusFault          Status = 4
)

// Station names of the demo line, in material-flow order.
const (
	StationAssembly  = "assembly"
	StationTest      = "test"
	StationPackaging = "packaging"
)

// Variable names of a Connected Factory station. The OPC UA node of variable
// V of station S has the string id "S.V" in NamespaceURI.
const (
	VarManufactured = "NumberOfManufacturedProducts" // UInt64, good parts
	VarDiscarded    = "NumberOfDiscardedProducts"    // UInt64, bad parts
	VarSerial       = "ProductSerialNumber"          // UInt64, part in the station
	VarFaultyTime   = "FaultyTime"                   // UInt64 ms, added when a fault is reset
	VarStatus       = "Status"                       // Int32, a Status
	VarEnergy       = "EnergyConsumption"            // Double kWh of the last cycle
	VarPressure     = "Pressure"                     // Double mbar, assembly only
	VarIdealCycle   = "IdealCycleTime"               // UInt64 wall-clock ms, constant per station
	VarActualCycle  = "ActualCycleTime"              // UInt64 wall-clock ms of the last cycle, 0 before the first
)

// Stations returns the demo line's station names in material-flow order.
func Stations() []string {
	return []string{StationAssembly, StationTest, StationPackaging}
}

// Variables returns the variable names of the named station in the order
// Snapshot reports them; only assembly has Pressure.
func Variables(station string) []string {
	vars := []string{VarManufactured, VarDiscarded, VarSerial, VarFaultyTime,
		VarStatus, VarEnergy, VarIdealCycle, VarActualCycle}
	if station == StationAssembly {
		vars = append(vars, VarPressure)
	}
	return vars
}

// DefaultSpeed is the demo's time-lapse factor: cycles of 4–11 s then take
// about a second of wall time, so something visibly happens every second.
const DefaultSpeed = 5

// Change is one variable taking a new value.
type Change struct {
	Station  string
	Variable string
	// Value is uint64, int32 or float64: the variable's OPC UA type
	// (UInt64, Int32, Double) as a Go value.
	Value any
	// Time is the wall-clock instant the change happened in the simulation;
	// it lies between the previous and the current Advance time. Zero in a
	// Snapshot taken before the first Advance.
	Time time.Time
}

// Line simulates one serial Connected Factory line, Assembly → Test →
// Packaging. It is a pure model: it does no I/O and reads no clock, so the
// same seed and the same sequence of Advance times give the same changes.
// A part enters a station once the upstream station has finished it and the
// station is ready; until then the finished part waits upstream in Done.
// A Line is not safe for concurrent use.
type Line struct {
	speed    float64
	stations []*station
	started  bool
	origin   time.Time     // wall time of the first Advance: simulated time 0
	sim      time.Duration // simulated time reached so far
	serial   uint64        // last serial number given to a raw part
	out      []Change
}

// NewLine returns a line at simulated time zero with every station Ready.
// seed fixes each station's ideal cycle time and every random draw; speed is
// simulated seconds per wall-clock second (values <= 0 mean 1).
func NewLine(seed int64, speed float64) *Line {
	if speed <= 0 || math.IsNaN(speed) || math.IsInf(speed, 0) {
		speed = 1
	}
	l := &Line{speed: speed}
	for i, name := range Stations() {
		// One generator per station keeps a station's draws independent of
		// how its neighbours' events interleave with its own.
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
		l.stations = append(l.stations, newStation(name, rng))
	}
	return l
}

// Advance moves the simulation to wall-clock time now and returns the
// changes that happened since the previous call, in order. The first call
// fixes the wall time of simulated time zero. Times earlier than the
// previous one are treated as the previous one.
func (l *Line) Advance(now time.Time) []Change {
	if !l.started {
		l.started, l.origin = true, now
	}
	target := time.Duration(float64(now.Sub(l.origin)) * l.speed)
	for i := l.nextDue(target); i >= 0; i = l.nextDue(target) {
		l.sim = l.stations[i].due
		l.step(i)
	}
	l.sim = max(l.sim, target)
	out := l.out
	l.out = nil
	return out
}

// Snapshot returns the current value of every variable of every station, in
// Stations and Variables order.
func (l *Line) Snapshot() []Change {
	var out []Change
	for _, st := range l.stations {
		for _, v := range Variables(st.name) {
			out = append(out, Change{Station: st.name, Variable: v, Value: st.value(v, l.speed), Time: l.now()})
		}
	}
	return out
}

// nextDue returns the index of the station whose next event comes first at
// or before target (the lowest index on a tie), or -1.
func (l *Line) nextDue(target time.Duration) int {
	best := -1
	for i, st := range l.stations {
		if st.due <= target && (best < 0 || st.due < l.stations[best].due) {
			best = i
		}
	}
	return best
}

// step runs the event that is due at station i.
func (l *Line) step(i int) {
	st := l.stations[i]
	switch st.status {
	case StatusReady:
		l.tryStart(i)
	case StatusWorkInProgress:
		l.finish(st)
	case StatusDone:
		l.handOver(i)
	case StatusDiscarded:
		l.leave(st)
	case StatusFault:
		l.reset(st)
	}
}

// tryStart starts a cycle on a new raw part (assembly) or on the part the
// upstream station holds; with none there the station waits until woken.
func (l *Line) tryStart(i int) {
	st := l.stations[i]
	if i == 0 {
		l.serial++
		st.serial = l.serial
	} else {
		up := l.stations[i-1]
		if !up.holding {
			st.due = never
			return
		}
		st.serial = up.serial
		up.holding = false
		l.leave(up)
	}
	st.startCycle(l.sim)
	l.emit(st, VarSerial, VarStatus)
	if st.hasPressure {
		l.emit(st, VarPressure)
	}
}

// finish ends a cycle: the part is good (Done) or scrapped (Discarded).
func (l *Line) finish(st *station) {
	discarded := st.finishCycle(l.sim)
	counter := VarManufactured
	if discarded {
		counter = VarDiscarded
	}
	l.emit(st, VarActualCycle, VarEnergy, counter, VarStatus)
	if st.hasPressure {
		l.emit(st, VarPressure)
	}
}

// handOver ends the Done dwell: the last station ships the part; the others
// hold it until the next station takes it, waking that station if it waits.
func (l *Line) handOver(i int) {
	st := l.stations[i]
	if i == len(l.stations)-1 {
		l.leave(st)
		return
	}
	st.holding, st.due = true, never
	if dn := l.stations[i+1]; dn.status == StatusReady && dn.due == never {
		dn.due = l.sim
	}
}

// leave ends a cycle's last state: the station becomes Ready, or Fault.
func (l *Line) leave(st *station) {
	st.leave(l.sim)
	l.emit(st, VarStatus)
	if st.hasPressure && st.status == StatusFault {
		l.emit(st, VarPressure)
	}
}

// reset clears a fault and books its duration into FaultyTime.
func (l *Line) reset(st *station) {
	st.reset(l.sim)
	l.emit(st, VarFaultyTime, VarStatus)
	if st.hasPressure {
		l.emit(st, VarPressure)
	}
}

func (l *Line) emit(st *station, vars ...string) {
	for _, v := range vars {
		l.out = append(l.out, Change{Station: st.name, Variable: v, Value: st.value(v, l.speed), Time: l.now()})
	}
}

// now maps the simulated time reached to wall-clock time.
func (l *Line) now() time.Time {
	if !l.started {
		return time.Time{}
	}
	return l.origin.Add(time.Duration(float64(l.sim) / l.speed))
}
