package oee

import (
	"encoding/json"
)

// jsonRecord is a Record as docs/message-format.md ("OEE records")
// describes it; undefined figures are null.
type jsonRecord struct {
	Kind              Kind         `json:"kind"`
	Line              string       `json:"line"`
	Station           string       `json:"station,omitempty"`
	Shift             string       `json:"shift,omitempty"`
	Day               string       `json:"day,omitempty"`
	Start             string       `json:"start"`
	End               string       `json:"end"`
	Convention        string       `json:"convention"`
	Availability      *float64     `json:"availability"`
	Performance       *float64     `json:"performance"`
	Quality           *float64     `json:"quality"`
	OEE               *float64     `json:"oee"`
	PlannedS          float64      `json:"planned_s"`
	RunS              float64      `json:"run_s"`
	UnplannedStopS    float64      `json:"unplanned_stop_s"`
	PlannedStopS      float64      `json:"planned_stop_s"`
	SmallStopS        float64      `json:"small_stop_s"`
	UnknownS          float64      `json:"unknown_s"`
	ExcludedS         float64      `json:"excluded_s"`
	Total             int64        `json:"total"`
	Good              int64        `json:"good"`
	Reject            int64        `json:"reject"`
	GapParts          int64        `json:"gap_parts"`
	IdealCycleS       *float64     `json:"ideal_cycle_s"`
	ActualCycleS      *float64     `json:"actual_cycle_s"`
	Stops             int64        `json:"stops"`
	SmallStops        int64        `json:"small_stops"`
	MTBFS             *float64     `json:"mtbf_s"`
	MTTRS             *float64     `json:"mttr_s"`
	EnergyKWh         float64      `json:"energy_kwh"`
	ImplausibleDeltas int64        `json:"implausible_deltas"`
	CounterResets     int64        `json:"counter_resets"`
	CounterWraps      int64        `json:"counter_wraps"`
	CounterAmbiguous  int64        `json:"counter_ambiguous"`
	ClockSteps        int64        `json:"clock_steps,omitempty"`
	Losses            jsonLoss     `json:"losses"`
	Reasons           []jsonReason `json:"reasons"`
	Flags             []string     `json:"flags"`
}

type jsonLoss struct {
	Breakdown         jsonStopLoss `json:"breakdown"`
	MaterialShortage  jsonStopLoss `json:"material_shortage"`
	Setup             jsonStopLoss `json:"setup"`
	PlannedStop       jsonStopLoss `json:"planned_stop"`
	SmallStop         jsonStopLoss `json:"small_stop"`
	ReducedSpeedS     *float64     `json:"reduced_speed_s"`
	StartupRejects    int64        `json:"startup_rejects"`
	ProductionRejects int64        `json:"production_rejects"`
}

type jsonStopLoss struct {
	S     float64 `json:"s"`
	Stops int64   `json:"stops"`
}

type jsonReason struct {
	Station string  `json:"station,omitempty"`
	Code    string  `json:"code"`
	Name    string  `json:"name,omitempty"`
	Loss    Loss    `json:"loss"`
	S       float64 `json:"s"`
	Stops   int64   `json:"stops"`
}

func (l Losses) json() jsonLoss {
	sl := func(x StopLoss) jsonStopLoss { return jsonStopLoss(x) }
	return jsonLoss{Breakdown: sl(l.Breakdown), MaterialShortage: sl(l.MaterialShortage), Setup: sl(l.Setup),
		PlannedStop: sl(l.PlannedStop), SmallStop: sl(l.SmallStop), ReducedSpeedS: l.ReducedSpeedS.ptr(),
		StartupRejects: l.StartupRejects, ProductionRejects: l.ProductionRejects}
}

func reasonsJSON(rs []ReasonFigure) []jsonReason {
	out := make([]jsonReason, 0, len(rs))
	for _, r := range rs {
		out = append(out, jsonReason{Station: r.Station, Code: r.Code, Name: r.Name, Loss: r.Loss, S: r.S, Stops: r.Stops})
	}
	return out
}

func (r Ratio) ptr() *float64 {
	if !r.Defined {
		return nil
	}
	v := r.Value
	return &v
}

const rfc3339Nano = "2006-01-02T15:04:05.999999999Z07:00"

// MarshalJSON encodes the record; an undefined figure is null, never 0.
func (r Record) MarshalJSON() ([]byte, error) {
	j := jsonRecord{Kind: r.Kind, Line: r.Line, Station: r.Station, Shift: r.Shift, Day: r.Day,
		Start: r.Start.UTC().Format(rfc3339Nano), End: r.End.UTC().Format(rfc3339Nano), Convention: r.Convention,
		Availability: r.Availability.ptr(), Performance: r.Performance.ptr(), Quality: r.Quality.ptr(), OEE: r.OEE.ptr(),
		PlannedS: r.PlannedS, RunS: r.RunS, UnplannedStopS: r.UnplannedStopS, PlannedStopS: r.PlannedStopS,
		SmallStopS: r.SmallStopS, UnknownS: r.UnknownS, ExcludedS: r.ExcludedS,
		Total: r.Total, Good: r.Good, Reject: r.Reject, GapParts: r.GapParts,
		IdealCycleS: r.IdealCycleS.ptr(), ActualCycleS: r.ActualCycleS.ptr(), Stops: r.Stops, SmallStops: r.SmallStops,
		MTBFS: r.MTBFS.ptr(), MTTRS: r.MTTRS.ptr(), EnergyKWh: r.EnergyKWh, ImplausibleDeltas: r.ImplausibleDeltas,
		CounterResets: r.CounterResets, CounterWraps: r.CounterWraps, CounterAmbiguous: r.CounterAmbiguous,
		ClockSteps: r.ClockSteps, Losses: r.Losses.json(), Reasons: reasonsJSON(r.Reasons), Flags: r.flags()}
	return json.Marshal(j)
}

func (r Record) flags() []string {
	flags := []string{}
	for _, f := range []struct {
		on   bool
		name string
	}{
		{r.PerformanceImplausible, "performance_implausible"}, {r.DataGap, "data_gap"},
		{r.ImplausibleDeltas > 0, "implausible_deltas"}, {r.CountsInconsistent, "counts_inconsistent"},
		{r.CounterAmbiguous > 0, "counter_ambiguous"}, {r.ClockSteps > 0, "clock_step"},
	} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	return flags
}
