package oee

import "time"

// Kind says which span of time a record covers.
type Kind string

// The record kinds. Rolling and shift-to-date records are provisional and
// repeat every interval; hour and shift records are closed: exact, and
// emitted once.
const (
	KindRolling     Kind = "rolling"
	KindShiftToDate Kind = "shift_to_date"
	KindHour        Kind = "hour"
	KindShift       Kind = "shift"
)

// Ratio is a figure that may be undefined (its denominator is zero, or an
// input is unknown); an undefined Ratio is never shown as 0 or 100 %. The
// zero Ratio is undefined.
type Ratio struct {
	Value   float64
	Defined bool
}

func ratio(num, den float64) Ratio {
	if den <= 0 {
		return Ratio{}
	}
	return Ratio{Value: num / den, Defined: true}
}

// Record is the OEE of one station, or of a line (Station == ""), over one
// span of time. Times are in seconds.
type Record struct {
	Kind          Kind
	Line, Station string
	// Shift and Day name the shift and its production day (the day it
	// starts on) for shift, shift-to-date and hour records inside a shift.
	Shift, Day string
	Start, End time.Time
	Convention string // "nakajima" or "iso22400"

	Availability, Performance, Quality, OEE Ratio

	// PlannedS = RunS + UnplannedStopS + PlannedStopS + SmallStopS (with
	// unknown = "unplanned_stop", UnplannedStopS includes UnknownS).
	PlannedS, RunS, UnplannedStopS, PlannedStopS, SmallStopS float64
	// UnknownS is planned time without data; ExcludedS is time in an
	// excluded state (no order). Neither is in PlannedS by default.
	UnknownS, ExcludedS float64

	Total, Good, Reject int64
	GapParts            int64 // parts made while unknown: counted, not in performance

	IdealCycleS, ActualCycleS Ratio // average ideal (weighted by parts) and actual cycle time
	Stops, SmallStops         int64
	MTBFS, MTTRS              Ratio
	EnergyKWh                 float64
	ImplausibleDeltas         int64 // counter deltas rejected as implausible
	// Counter drops judged resets and wraps; CounterAmbiguous counts those
	// of them that neither the rate nor a sibling counter could tell
	// apart (taken as wraps when plausible).
	CounterResets, CounterWraps, CounterAmbiguous int64
	// ClockSteps counts the steps of a server's clock (someone set a PLC's
	// clock) the stations saw in the span. Records stay on the bridge's
	// clock across them; the count says the source timestamps jumped.
	ClockSteps int64

	Losses  Losses
	Reasons []ReasonFigure // the stop reasons that lost the most time first

	PerformanceImplausible bool // performance above 100 %: the ideal cycle time is likely wrong
	DataGap                bool // the span holds unknown time or parts counted across a gap
	CountsInconsistent     bool // more rejects than total: quality undefined
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }

// figures computes a record's figures from a tally whose counts are normalized.
func (l *line) figures(r *Record, t *tally) {
	d := &t.Dur
	r.RunS, r.PlannedStopS, r.SmallStopS = seconds(d[catRun]), seconds(d[catPlanned]), seconds(d[catSmall])
	r.UnknownS, r.ExcludedS = seconds(d[catUnknown]), seconds(d[catExcluded])
	unplanned := d[catUnplanned] + d[catPending] // a pending stop shows as unplanned until classified
	if l.unknownUS {
		unplanned += d[catUnknown]
	}
	r.UnplannedStopS = seconds(unplanned)
	planned := d[catRun] + unplanned + d[catPlanned] + d[catSmall]
	operating := d[catRun]
	if !l.iso {
		operating += d[catSmall] // Nakajima: small stops are a performance loss
	}
	r.PlannedS = seconds(planned)
	r.Availability = ratio(float64(operating), float64(planned))
	l.performance(r, t, operating)
	l.quality(r)
	r.MTBFS = ratio(seconds(operating), float64(t.Stops))
	r.MTTRS = ratio(seconds(d[catUnplanned]), float64(t.Stops))
	r.DataGap = d[catUnknown] > 0 || t.GapParts > 0
	r.CounterResets, r.CounterWraps, r.CounterAmbiguous = t.Resets, t.Wraps, t.Ambiguous
	r.ClockSteps = t.ClockSteps
	l.losses(r, t)
}

func (l *line) performance(r *Record, t *tally, operating int64) {
	r.Total, r.Good, r.Reject, r.GapParts = t.Total, t.Good, t.Reject, t.GapParts
	r.Stops, r.SmallStops, r.EnergyKWh, r.ImplausibleDeltas = t.Stops, t.SmallStops, t.Energy, t.Implausible
	r.ActualCycleS = ratio(seconds(t.ActualSum), float64(t.ActualN))
	r.IdealCycleS = ratio(seconds(t.IdealWork), float64(t.Total-t.GapParts-t.NoIdeal))
	if t.NoIdeal == 0 {
		r.Performance = ratio(float64(t.IdealWork), float64(operating))
	}
	r.PerformanceImplausible = r.Performance.Defined && r.Performance.Value > 1
}

func (l *line) quality(r *Record) {
	if r.Reject < 0 || r.Good < 0 {
		r.CountsInconsistent = true
	} else {
		r.Quality = ratio(float64(r.Good), float64(r.Total))
	}
	a, p, q := r.Availability, r.Performance, r.Quality
	switch {
	case a.Defined && p.Defined && q.Defined:
		r.OEE = Ratio{Value: a.Value * p.Value * q.Value, Defined: true}
	case a.Defined && p.Defined && (a.Value == 0 || p.Value == 0):
		r.OEE = Ratio{Defined: true} // nothing made in planned time: 0, whatever quality
	}
}

// records appends one record per station and one for the line, all over
// the same span; the line's come from summed times and counts.
func (l *line) records(k Kind, shift, day string, start, end int64, ts []tally, dst []Record) []Record {
	var sum tally
	for i, s := range l.stations {
		n := ts[i]
		n.Total, n.Good, n.Reject = n.counts(s.counting)
		n.StartupTotal, n.StartupGood, n.StartupReject = n.startupCounts(s.counting)
		n.Reasons, n.StopDur, n.StopN = s.withOpenStop(&ts[i]), 0, 0
		dst = append(dst, l.record(k, s.name, shift, day, start, end, &n))
		sum.add(&n)
	}
	out := ts[l.output]
	_, sum.Good, _ = out.counts(l.stations[l.output].counting)
	sum.Total = sum.Good + sum.Reject // the line's output is its last station's good parts
	return append(dst, l.record(k, "", shift, day, start, end, &sum))
}

func (l *line) record(k Kind, station, shift, day string, start, end int64, t *tally) Record {
	r := Record{Kind: k, Line: l.name, Station: station, Shift: shift, Day: day,
		Start: time.Unix(0, start).UTC(), End: time.Unix(0, end).UTC(), Convention: "nakajima"}
	if l.iso {
		r.Convention = "iso22400"
	}
	l.figures(&r, t)
	return r
}
