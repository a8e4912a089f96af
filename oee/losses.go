package oee

import (
	"cmp"
	"slices"
)

// MaxRecordReasons is how many reasons a record lists: the ones that lost
// the most time. Losses holds the totals of all of them.
const MaxRecordReasons = 10

// Losses is where a span's time and parts went, by the six big losses as
// far as the data tells them apart.
type Losses struct {
	// Stop time and stops by loss class (a stop's class: its reason's, see
	// Loss). Planned downtime windows and unknown time are no stop's.
	Breakdown, MaterialShortage, Setup, PlannedStop, SmallStop StopLoss
	// ReducedSpeedS is run time less the ideal time of the parts made in
	// it: with small stops, what performance lost. Negative when
	// performance is above 100 %; undefined without an ideal cycle time.
	ReducedSpeedS Ratio
	// Rejects made within Station.Startup after a stop, and the others.
	StartupRejects, ProductionRejects int64
}

// StopLoss is the time and number of stops of one loss class.
type StopLoss struct {
	S     float64
	Stops int64
}

// ReasonFigure is the time and number of stops of one reason code in a
// span. A stop is counted in the span it began in.
type ReasonFigure struct {
	Station string // in line records: the station the code is of
	Code    string // "" pools codes beyond the engine's bound
	Name    string // from Station.Reasons; "" when the table has none
	Loss    Loss
	S       float64
	Stops   int64
}

// class returns the StopLoss of loss class c.
func (l *Losses) class(c Loss) *StopLoss {
	switch c {
	case LossMaterialShortage:
		return &l.MaterialShortage
	case LossSetup:
		return &l.Setup
	case LossPlannedStop:
		return &l.PlannedStop
	case LossSmallStop:
		return &l.SmallStop
	}
	return &l.Breakdown
}

// losses fills a record's losses and reasons from a normalized tally.
func (l *line) losses(r *Record, t *tally) {
	for _, rt := range t.Reasons {
		c := r.Losses.class(rt.Loss)
		c.S += seconds(rt.Dur)
		c.Stops += rt.N
		r.Reasons = append(r.Reasons, ReasonFigure{Station: rt.Station, Code: rt.Code,
			Name: l.reasonName(rt.Station, rt.Code), Loss: rt.Loss, S: seconds(rt.Dur), Stops: rt.N})
	}
	slices.SortStableFunc(r.Reasons, func(a, b ReasonFigure) int {
		return cmp.Or(cmp.Compare(b.S, a.S), cmp.Compare(b.Stops, a.Stops), cmp.Compare(a.Station, b.Station), cmp.Compare(a.Code, b.Code))
	})
	r.Reasons = r.Reasons[:min(len(r.Reasons), MaxRecordReasons)]
	if r.Station != "" {
		for i := range r.Reasons {
			r.Reasons[i].Station = ""
		}
	}
	if t.NoIdeal == 0 {
		r.Losses.ReducedSpeedS = Ratio{Value: seconds(t.Dur[catRun] - t.IdealWork), Defined: true}
	}
	r.Losses.StartupRejects = t.StartupReject
	r.Losses.ProductionRejects = t.Reject - t.StartupReject
}

func (l *line) reasonName(station, code string) string {
	for _, s := range l.stations {
		if s.name == station {
			return s.reasons[code].Name
		}
	}
	return ""
}
