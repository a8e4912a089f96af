package demo

import (
	"math"
	"math/rand/v2"
	"time"
)

// Model parameters, in simulated time. The dwells keep every status visible
// for at least 2 s of simulated time (0.4 s at DefaultSpeed), longer than
// the demo's publishing interval, so subscribers see each state.
const (
	idealMin       = 4 * time.Second
	idealMax       = 11 * time.Second
	slowdownMax    = 0.3 // actual cycle = ideal × [1, 1+slowdownMax)
	discardProb    = 0.05
	faultProb      = 0.03 // per cycle
	faultMin       = 10 * time.Second
	faultMax       = 60 * time.Second
	readyDwell     = 2 * time.Second // Ready before taking the next part
	doneDwell      = 2 * time.Second // Done before the part can move on
	discardedDwell = 2 * time.Second
	ambientMbar    = 1013.25
	workMbar       = 2500.0 // Assembly's press while a part is in work
	faultMbar      = 4500.0 // an overpressure is what the fault looks like
)

// never marks a station that waits for another station rather than a timer.
const never = time.Duration(math.MaxInt64)

// stationPowerKW is each station's mean electrical power while working.
var stationPowerKW = map[string]float64{
	StationAssembly:  3.0,
	StationTest:      1.5,
	StationPackaging: 2.0,
}

// station is one machine's state; Line decides when its events run.
type station struct {
	name        string
	rng         *rand.Rand
	hasPressure bool
	powerKW     float64
	ideal       time.Duration

	status   Status
	due      time.Duration // simulated time of the next timed event, or never
	holding  bool          // Done, and the part waits for the next station
	serial   uint64
	good     uint64
	bad      uint64
	faulty   time.Duration // total of reset faults
	fault    time.Duration // length of the current fault
	cycle    time.Duration // current cycle's length, drawn at its start
	actual   time.Duration // last finished cycle's length
	energy   float64       // kWh of the last cycle
	pressure float64
}

func newStation(name string, rng *rand.Rand) *station {
	steps := int64((idealMax - idealMin) / (100 * time.Millisecond))
	return &station{
		name:        name,
		rng:         rng,
		hasPressure: name == StationAssembly,
		powerKW:     stationPowerKW[name],
		ideal:       idealMin + time.Duration(rng.Int64N(steps+1))*100*time.Millisecond,
		status:      StatusReady,
		due:         readyDwell,
		pressure:    ambientMbar,
	}
}

// startCycle puts the station's current part in work; the cycle's length is
// drawn now and published when it ends, as a real station measures it.
func (st *station) startCycle(now time.Duration) {
	slow := 1 + slowdownMax*st.rng.Float64()
	st.cycle = time.Duration(float64(st.ideal) * slow).Round(time.Millisecond)
	st.status, st.due = StatusWorkInProgress, now+st.cycle
	st.pressure = roundTo(st.jitter(workMbar, 0.02), 2)
}

// finishCycle ends the cycle and reports whether the part was discarded.
func (st *station) finishCycle(now time.Duration) (discarded bool) {
	st.actual = st.cycle
	st.energy = roundTo(st.jitter(st.powerKW, 0.05)*st.actual.Hours(), 6)
	st.pressure = roundTo(st.jitter(ambientMbar, 0.001), 2)
	if st.rng.Float64() < discardProb {
		st.bad++
		st.status, st.due = StatusDiscarded, now+discardedDwell
		return true
	}
	st.good++
	st.status, st.due = StatusDone, now+doneDwell
	return false
}

// leave ends the cycle's last state: a fault, now and then, or Ready.
func (st *station) leave(now time.Duration) {
	if st.rng.Float64() < faultProb {
		span := int64((faultMax - faultMin) / time.Millisecond)
		st.fault = faultMin + time.Duration(st.rng.Int64N(span+1))*time.Millisecond
		st.status, st.due = StatusFault, now+st.fault
		st.pressure = roundTo(st.jitter(faultMbar, 0.1), 2)
		return
	}
	st.status, st.due = StatusReady, now+readyDwell
}

func (st *station) reset(now time.Duration) {
	st.faulty += st.fault
	st.fault = 0
	st.status, st.due = StatusReady, now+readyDwell
	st.pressure = roundTo(st.jitter(ambientMbar, 0.001), 2)
}

// jitter returns mean ± up to frac of it.
func (st *station) jitter(mean, frac float64) float64 {
	return mean * (1 + frac*(2*st.rng.Float64()-1))
}

// roundTo rounds x to decimals places: short in messages, plausible for a PLC.
func roundTo(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}

// value returns variable v as the Go type of its OPC UA type.
// Durations are published in wall-clock milliseconds (simulated time ÷
// speed) so that they agree with the timestamps: an OEE engine dividing an
// ideal cycle time by the time between readings must get the same units.
func (st *station) value(v string, speed float64) any {
	wall := func(d time.Duration) uint64 { return uint64(math.Round(float64(d.Milliseconds()) / speed)) }
	switch v {
	case VarManufactured:
		return st.good
	case VarDiscarded:
		return st.bad
	case VarSerial:
		return st.serial
	case VarFaultyTime:
		return wall(st.faulty)
	case VarStatus:
		return int32(st.status)
	case VarEnergy:
		return st.energy
	case VarPressure:
		return st.pressure
	case VarIdealCycle:
		return wall(st.ideal)
	case VarActualCycle:
		return wall(st.actual)
	}
	return nil
}
