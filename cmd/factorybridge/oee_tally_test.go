package main

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// truthTally is what one station did over the compared window, outside the
// unknown spans, as the bridge should account it: seconds running, in
// small stops and in longer stops, stop time and stops per reason, and the
// parts, those made in a gap and those lost to every observer apart.
type truthTally struct {
	runS, smallS, unplannedS float64
	good, bad, gap, lost     int64
	reasons                  map[string]*reasonTally // "code/loss"
	// final: the window ends with a closed record, which waits for a stop
	// across its end to be classified by its whole length.
	final bool
	// noSmallStops: the bridge ran with small_stop = "0s", every fault is
	// an unplanned stop.
	noSmallStops bool
}

type reasonTally struct {
	s     float64
	stops int64
}

func (tt *truthTally) reason(key string) *reasonTally {
	if tt.reasons == nil {
		tt.reasons = map[string]*reasonTally{}
	}
	if tt.reasons[key] == nil {
		tt.reasons[key] = &reasonTally{}
	}
	return tt.reasons[key]
}

// tallyTime adds the station's time over win. A fault is a small stop when
// the part the bridge could see is shorter than the threshold and it ended
// inside the window (one going on at the window's end shows as unplanned).
func (tt *truthTally) tallyTime(evs []truthEvent, win span, unknown []span) {
	fs := faults(evs)
	for i, e := range evs {
		end := int64(math.MaxInt64)
		if i+1 < len(evs) {
			end = evs[i+1].T
		}
		d := seconds(outside(span{max(e.T, win.from), min(end, win.to)}, unknown))
		switch {
		case e.Event == "stop" || d <= 0:
		case e.Status != 4:
			tt.runS += d
		default:
			tt.addFault(faultAt(fs, e.T), d, win, unknown)
		}
	}
	for _, f := range fs {
		if s, ok := f.seen(unknown); ok && s.from > win.from && s.from <= win.to {
			tt.reason(tt.faultKey(f, win, unknown)).stops++ // counted where it began, as seen
		}
	}
}

func (tt *truthTally) addFault(f fault, d float64, win span, unknown []span) {
	key := tt.faultKey(f, win, unknown)
	tt.reason(key).s += d
	if key[len(key)-len("small_stop"):] == "small_stop" {
		tt.smallS += d
	} else {
		tt.unplannedS += d
	}
}

// faultKey is the reason code and loss class the bridge should give f:
// 1 jam and 2 tool are breakdowns, 3 material a material shortage
// (writeOEEConfig's table), a short fault a small stop.
func (tt *truthTally) faultKey(f fault, win span, unknown []span) string {
	s, _ := f.seen(unknown)
	loss := "breakdown"
	switch {
	case !tt.noSmallStops && s.to-s.from < int64(oeeSmallStop) && (f.to <= win.to || tt.final):
		loss = "small_stop"
	case f.reason == 3:
		loss = "material_shortage"
	}
	return strconv.Itoa(f.reason) + "/" + loss
}

func faultAt(fs []fault, t int64) fault {
	for _, f := range fs {
		if f.has(t) {
			return f
		}
	}
	return fault{span: span{t, t}}
}

// tallyParts counts the station's parts made in win. A part whose own
// reading never reached the broker is a failure unless excused says why it
// could not have; its count is lost if no later reading of its counter came
// before the counter was reset or the simulator stopped. It returns the
// unexcused parts.
func (tt *truthTally) tallyParts(l *oeeLog, station string, ps []part, win span, unknown []span, excused func(int64) bool) []string {
	var errs []string
	for _, p := range ps {
		if p.t <= win.from || p.t > win.to {
			continue
		}
		own := l.published(station, p.node, p.value, p.t-int64(5*time.Millisecond), p.t+int64(time.Millisecond))
		if !own && !excused(p.t) {
			errs = append(errs, fmt.Sprintf("%s: the part counted by %s = %d at %s never reached the broker",
				station, p.node, p.value, time.Unix(0, p.t).UTC().Format(time.StampMicro)))
		}
		switch {
		case !own && !l.sampledIn(station, p.node, p.t, p.boundary):
			tt.lost++
		case p.node == nodeGood:
			tt.good++
		default:
			tt.bad++
		}
		if (own || l.sampledIn(station, p.node, p.t, p.boundary)) && inside(p.t, unknown) {
			tt.gap++
		}
	}
	return errs
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }
