package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// stationOEE checks one station's roles, state map and counter settings.
func (v checker) stationOEE(path string, st Station) {
	o := st.OEE
	if o.Preset != "" {
		v.oneOf(path+".preset", o.Preset, "preset", oeePresets)
	}
	v.roles(path+".roles", st)
	v.states(path+".states", o)
	v.counterTypes(path+".counters", o.Counters)
	v.idealCycle(path, o)
	v.oneOf(path+".time_unit", o.TimeUnit, "time unit", timeUnits)
	if o.SmallStop != nil {
		v.durationIn(path+".small_stop", *o.SmallStop, 0, maxSmallStop)
	}
	if !(o.Plausibility >= minPlausibilityFactor) || math.IsInf(o.Plausibility, 1) {
		v.r.add(path+".plausibility", "%g is not allowed (valid: a finite number, 1 or more)", o.Plausibility)
	}
	v.durationIn(path+".startup", o.Startup, 0, maxStartup)
	v.reasons(path+".reasons", o.Reasons)
}

// reasons checks the reason table: codes given and unique, known classes.
func (v checker) reasons(path string, rs []StopReason) {
	seen := map[string]string{}
	for i, r := range rs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if v.required(p+".code", r.Code, "the reason node's or the state's value as text") {
			v.unique(p+".code", r.Code, seen)
		}
		if r.Loss != "" {
			v.oneOf(p+".loss", r.Loss, "loss class", lossClasses)
		}
	}
}

// roles checks that every role names a node of the station and that the
// counters form one of the pairs OEE can be computed from.
func (v checker) roles(path string, st Station) {
	r := st.OEE.Roles
	var names []string
	for _, n := range st.Nodes {
		names = append(names, n.Name)
	}
	for _, kv := range r.pairs() {
		if kv[1] != "" && !slices.Contains(names, kv[1]) {
			v.r.add(path+"."+kv[0], "%q is not a node of this station (valid: %s)", kv[1], strings.Join(names, ", "))
		}
	}
	switch {
	case r.GoodCount == "" && r.TotalCount == "":
		v.r.add(path+".total_count", "required (valid: total_count or good_count, with or without reject_count)")
	case r.GoodCount != "" && r.TotalCount != "" && r.RejectCount != "":
		v.r.add(path+".reject_count", "set together with good_count and total_count (valid: two of the three)")
	}
	if r.State == "" && r.FaultTime == "" {
		v.r.add(path+".state", "required (valid: a state node, or fault_time for stations without one)")
	}
	if r.Mode != "" && st.OEE.Preset != "machinery" {
		v.r.add(path+".mode", "only used with preset = \"machinery\"")
	}
}

func (r Roles) pairs() [][2]string {
	return [][2]string{
		{"state", r.State}, {"mode", r.Mode}, {"good_count", r.GoodCount},
		{"total_count", r.TotalCount}, {"reject_count", r.RejectCount},
		{"ideal_cycle_time", r.IdealCycleTime}, {"actual_cycle_time", r.ActualCycleTime},
		{"fault_time", r.FaultTime}, {"energy", r.Energy}, {"product", r.Product},
		{"stop_reason", r.StopReason},
	}
}

// states checks that a station without a preset maps some state to
// running and that no value is in two buckets.
func (v checker) states(path string, o *StationOEE) {
	m := o.States
	buckets := [][]int64{m.Running, m.UnplannedStop, m.PlannedStop, m.SmallStop, m.Excluded}
	keys := []string{"running", "unplanned_stop", "planned_stop", "small_stop", "excluded"}
	if o.Preset == "" && o.Roles.State != "" && len(m.Running) == 0 {
		v.r.add(path+".running", "required without a preset (valid: the state values that mean running, or preset = %s)", strings.Join(oeePresets, ", "))
	}
	seen := map[int64]string{}
	for i, b := range buckets {
		for j, x := range b {
			p := fmt.Sprintf("%s.%s[%d]", path, keys[i], j)
			if first, ok := seen[x]; ok {
				v.r.add(p, "state %d is already in %s (valid: each value in one bucket)", x, first)
				continue
			}
			seen[x] = keys[i]
		}
	}
}

func (v checker) counterTypes(path string, c CounterTypes) {
	v.oneOf(path+".good_count", c.GoodCount, "counter type", counterTypes)
	v.oneOf(path+".total_count", c.TotalCount, "counter type", counterTypes)
	v.oneOf(path+".reject_count", c.RejectCount, "counter type", counterTypes)
	v.oneOf(path+".fault_time", c.FaultTime, "counter type", counterTypes)
}

// idealCycle checks the constant, the products, and that performance has
// some ideal cycle time to work with.
func (v checker) idealCycle(path string, o *StationOEE) {
	v.notNegative(path+".ideal_cycle_time", o.IdealCycleTime)
	seen := map[string]string{}
	for i, p := range o.Products {
		pp := fmt.Sprintf("%s.products[%d]", path, i)
		if v.required(pp+".id", p.ID, "the product node's value as text") {
			v.unique(pp+".id", p.ID, seen)
		}
		v.positive(pp+".ideal_cycle_time", p.IdealCycleTime)
	}
	if len(o.Products) > 0 && o.Roles.Product == "" {
		v.r.add(path+".roles.product", "required with products (valid: the node whose value selects the product)")
	}
	if o.IdealCycleTime == 0 && o.Roles.IdealCycleTime == "" && len(o.Products) == 0 {
		v.r.add(path+".ideal_cycle_time", "required (valid: a duration such as \"4s\", or roles.ideal_cycle_time, or products)")
	}
}
