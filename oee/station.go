package oee

import (
	"cmp"
	"strconv"
	"time"

	fb "factorybridge"
)

// role is what a node means to its station.
type role uint8

const (
	roleState role = iota
	roleMode
	roleGood
	roleTotal
	roleReject
	roleIdeal
	roleActual
	roleFault
	roleEnergy
	roleProduct
	roleReason
	numRoles
)

// station computes one station's time and counts. Its configuration is
// fixed at New; S is what MarshalBinary persists.
type station struct {
	name      string
	line      *line
	idx       int
	states    map[int64]Bucket
	machinery bool
	hasState  bool
	hasMode   bool
	counting  counting
	producing [3]bool // per roleGood, roleTotal, roleReject: counts parts for performance
	unit      int64   // ns per unit of time-valued nodes
	smallStop int64
	factor    float64
	products  map[string]int64
	reasons   map[string]Reason
	hasReason bool  // a stop_reason node
	startup   int64 // ns after a stop in which rejects are startup rejects
	S         stationState
}

// stationState is the part of a station that changes with its readings.
type stationState struct {
	Started      bool  // Cursor holds a time
	Cursor       int64 // time accounted up to, Unix ns
	Disconnected bool
	Bucket       Bucket
	StateVal     int64
	ModeVal      int64
	Pending      bool // an unplanned stop shorter than the threshold so far
	PendingStart int64
	Stop         stopState  // the stop the station is in (stop.go)
	Ideal        int64      // current ideal cycle time, ns; 0 unknown
	Counters     [4]counter // good, total, reject, fault
	Drops        []drop     // counter drops being judged, and recent ones (drop.go)
	Busy         int64      // ns spent running or unknown: when counters can count
	Made         int64      // parts the producing counters counted
	ReasonVal    string     // the stop_reason node's code; "" none
	StartupUntil int64      // rejects before this are startup rejects
	Ring         []tally    // per-minute tallies of the rolling window
	RingMin      []int64    // the minute each Ring entry holds
}

func newStation(l *line, idx int, o *Station, ringLen int) (*station, error) {
	states, err := stateMap(o)
	if err == nil {
		err = checkStation(o)
	}
	if err != nil {
		return nil, err
	}
	s := &station{name: o.Name, line: l, idx: idx, states: states, machinery: o.Preset == PresetMachinery,
		hasState: o.Roles.State != "", hasMode: o.Roles.Mode != "", unit: int64(cmp.Or(o.TimeUnit, time.Second)),
		smallStop: int64(o.SmallStop), factor: cmp.Or(o.Plausibility, DefaultPlausibility), products: map[string]int64{},
		reasons: o.Reasons, hasReason: o.Roles.StopReason != "", startup: int64(o.Startup)}
	s.counting, s.producing = countingOf(&o.Roles)
	for i, t := range []CounterType{o.Counters.GoodCount, o.Counters.TotalCount, o.Counters.RejectCount, o.Counters.FaultTime} {
		if s.S.Counters[i].bits, s.S.Counters[i].sign, err = counterType(t); err != nil {
			return nil, err
		}
	}
	for id, ideal := range o.Products {
		s.products[id] = int64(ideal)
	}
	s.S.Ideal = int64(o.IdealCycleTime)
	s.S.Ring, s.S.RingMin = make([]tally, ringLen), make([]int64, ringLen)
	return s, nil
}

// countingOf derives which counters count parts made (for performance).
func countingOf(r *Roles) (counting, [3]bool) {
	switch {
	case r.TotalCount != "" && r.GoodCount != "":
		return countGoodTotal, [3]bool{false, true, false}
	case r.TotalCount != "":
		return countTotal, [3]bool{false, true, false}
	}
	return countGood, [3]bool{true, false, r.RejectCount != ""}
}

// observe takes one reading of the node playing role ro at time t.
func (s *station) observe(ro role, r *fb.Reading, t int64) {
	t = s.advance(t)
	switch ro {
	case roleState, roleMode:
		s.onState(ro, r, t)
	case roleGood, roleTotal, roleReject:
		s.onCount(ro, r, t)
	case roleFault:
		s.onFault(r, t)
	case roleIdeal:
		if n, ok := numberOf(r.Value); ok && r.IsGood() && n > 0 {
			s.S.Ideal = int64(n * float64(s.unit))
		}
	case roleReason:
		s.onReason(r)
	case roleProduct:
		if ideal, ok := s.products[productKey(r.Value)]; ok && r.IsGood() {
			s.S.Ideal = ideal
		}
	default:
		s.onSample(ro, r, t)
	}
}

func productKey(v fb.Value) string {
	switch v.Type.Kind() {
	case fb.KindInt:
		return strconv.FormatInt(v.Int(), 10)
	case fb.KindUint:
		return strconv.FormatUint(v.Uint(), 10)
	case fb.KindText:
		return v.Str
	}
	if n, ok := numberOf(v); ok {
		return strconv.FormatFloat(n, 'g', -1, 64)
	}
	return ""
}

// onSample adds an actual cycle time or an energy value.
func (s *station) onSample(ro role, r *fb.Reading, t int64) {
	n, ok := numberOf(r.Value)
	if !ok || !r.IsGood() {
		return
	}
	for _, tg := range s.targets(t) {
		if tg == nil {
			continue
		}
		if ro == roleEnergy {
			tg.Energy += n
		} else {
			tg.ActualSum += int64(n * float64(s.unit))
			tg.ActualN++
		}
	}
}

// onState maps a state (or machinery mode) value to its bucket.
func (s *station) onState(ro role, r *fb.Reading, t int64) {
	raw, ok := rawOf(r.Value)
	if !ok || !r.IsGood() {
		s.setBucket(BucketUnknown, 0, t)
		return
	}
	if ro == roleMode {
		s.S.ModeVal = int64(raw)
	} else {
		s.S.StateVal = int64(raw)
	}
	key := s.stateKey()
	s.setBucket(s.states[key], key, t) // a value no map lists is unknown
}

// stateKey is the key of the station's state in its map.
func (s *station) stateKey() int64 {
	if !s.machinery {
		return s.S.StateVal
	}
	mode := int64(moProcessing)
	if s.hasMode {
		mode = s.S.ModeVal
	}
	return machineryKey(s.S.StateVal, mode)
}
