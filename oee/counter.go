package oee

import (
	"fmt"
	"math"
	"time"

	fb "factorybridge"
)

// counter turns successive raw values of a PLC counter into deltas, with
// wrap-around at its declared width, and keeps the evidence drop.go judges
// a drop by. Its fields are exported for gob, which persists them.
type counter struct {
	Last   uint64 // last raw value, masked to the width
	At     int64  // source time of Last, Unix ns
	Valid  bool   // Last holds a value
	Gap    bool   // the next delta spans a gap in the data
	BusyAt int64  // the station's Busy when Last was read
	MadeAt int64  // the station's Made when Last was read, less this counter's parts
	// RateN parts in RateT busy ns, both decayed with rateTau: the
	// counter's recent rate.
	RateN, RateT float64
	bits         uint8
	sign         bool
}

// The rate a counter has been counting at is evidence in judging a drop.
const (
	rateTau        = float64(10 * time.Minute) // busy time over which the rate is averaged
	minRateHistory = float64(time.Minute)      // less busy time than this: rate unknown
)

// verdict is what the recent rate says of a wrap.
type verdict uint8

const (
	rateUnknown verdict = iota // too little history
	rateFits                   // the wrapped delta is what the rate leads to expect
	rateExceeds                // far more parts than the rate leads to expect
)

// learn adds d parts counted in busy ns to the recent rate.
func (c *counter) learn(d uint64, busy int64) {
	a := math.Exp(-float64(max(busy, 0)) / rateTau)
	c.RateN = c.RateN*a + float64(d)
	c.RateT = c.RateT*a + float64(max(busy, 0))
}

// rateVerdict says whether wrap parts in busy ns fit the recent rate. The
// busy time since the last value counts as history without parts, so a
// counter that has been quiet for long has a low rate. A count is taken to
// fit when it is at most 2λ + 4√λ + 4 for λ expected parts: generous for
// bursts and for steps of several parts, far below the jump a reset near
// the top of the range takes for a wrap.
func (c *counter) rateVerdict(wrap uint64, busy int64) verdict {
	busy = max(busy, 0)
	a := math.Exp(-float64(busy) / rateTau)
	n, t := c.RateN*a, c.RateT*a+float64(busy)
	if t < minRateHistory {
		return rateUnknown
	}
	lambda := n / t * float64(busy)
	if float64(wrap) <= 2*lambda+4*math.Sqrt(lambda)+4 {
		return rateFits
	}
	return rateExceeds
}

// falls reports whether v is below the last value as the PLC type orders
// them: a wrap or a reset.
func (c *counter) falls(v uint64) bool { return v != c.Last && c.less(v, c.Last) }

// counterType maps a PLC type to width and signedness.
func counterType(t CounterType) (bits uint8, signed bool, err error) {
	switch t {
	case CounterInt16:
		return 16, true, nil
	case CounterUint16:
		return 16, false, nil
	case CounterInt32:
		return 32, true, nil
	case CounterUint32:
		return 32, false, nil
	case CounterInt64:
		return 64, true, nil
	case CounterUint64, "":
		return 64, false, nil
	}
	return 0, false, fmt.Errorf("unknown counter type %q", t)
}

func (c *counter) mask() uint64 {
	if c.bits >= 64 {
		return math.MaxUint64
	}
	return 1<<c.bits - 1
}

// less compares two masked raw values as the PLC type orders them.
func (c *counter) less(a, b uint64) bool {
	if !c.sign {
		return a < b
	}
	shift := 64 - c.bits
	return int64(a<<shift)>>shift < int64(b<<shift)>>shift
}

// update takes a new raw value at time t and returns the parts it adds.
// limit is the most parts plausible since the last value (0: no limit but
// half the range). implausible reports a delta rejected as too large.
func (c *counter) update(raw uint64, t int64, limit uint64) (delta uint64, implausible bool) {
	v := raw & c.mask()
	if !c.Valid {
		c.Last, c.At, c.Valid = v, t, true
		return 0, false
	}
	mod := (v - c.Last) & c.mask()
	switch {
	case mod == 0:
	case !c.less(v, c.Last):
		delta = mod
	case limit != 0 && mod <= limit || limit == 0 && mod <= c.mask()>>1:
		delta = mod // wrapped around its width
	default:
		delta = c.afterReset(v) // a drop from large to small: counting restarted
	}
	c.Last, c.At = v, t
	if limit != 0 && delta > limit {
		return 0, true
	}
	return delta, false
}

// afterReset is what a counter counted since it was reset to zero.
func (c *counter) afterReset(v uint64) uint64 {
	if c.sign && c.less(v, 0) {
		return 0 // a signed counter reset to a negative value counted nothing yet
	}
	return v
}

// limit is the most parts an ideal cycle allows in elapsed ns, times the
// plausibility factor, plus two for parts finishing at the edges.
func partLimit(elapsed, ideal int64, factor float64) uint64 {
	if ideal <= 0 {
		return 0
	}
	return uint64(float64(max(elapsed, 0))*factor/float64(ideal)) + 2
}

// rawOf returns a numeric value's bits as a counter sees them.
func rawOf(v fb.Value) (uint64, bool) {
	switch v.Type.Kind() {
	case fb.KindInt, fb.KindUint, fb.KindBool:
		return v.Bits, !v.Array
	case fb.KindFloat:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		return uint64(int64(math.Round(f))), !v.Array
	}
	return 0, false
}

// numberOf returns a numeric value as a float64.
func numberOf(v fb.Value) (float64, bool) {
	switch v.Type.Kind() {
	case fb.KindInt:
		return float64(v.Int()), !v.Array
	case fb.KindUint, fb.KindBool:
		return float64(v.Uint()), !v.Array
	case fb.KindFloat:
		f := v.Float()
		return f, !v.Array && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}
