package oee

// cat is where a stretch of a station's time goes.
type cat uint8

const (
	catRun       cat = iota // running
	catUnplanned            // unplanned stop at least the small-stop threshold long
	catPlanned              // planned stop (state, or planned downtime under Nakajima)
	catSmall                // small stop: a performance loss (Nakajima) or a delay (ISO)
	catUnknown              // no data: disconnected, Bad or unmapped state
	catExcluded             // excluded state: no order, no shift
	catPending              // a stop shorter than the threshold so far; becomes small or unplanned
	numCats
)

// tally is what happened at one station in one stretch of time: a minute of
// the rolling window, an hour or a shift. Durations are in ns. Its fields
// are exported for gob.
type tally struct {
	Dur [numCats]int64
	// Counts as the counters delivered them; which of total and good is
	// derived depends on the station's roles (see counts).
	Total, Good, Reject int64
	GapParts            int64 // parts counted across a data gap (no run time to match)
	IdealWork           int64 // Σ ideal cycle × parts with a known ideal, ns
	NoIdeal             int64 // parts counted while no ideal cycle time was known
	ActualSum           int64 // Σ actual cycle time samples, ns
	ActualN             int64
	Energy              float64
	Stops, SmallStops   int64
	Implausible         int64 // counter deltas rejected as implausible
	// Counter drops judged resets and wraps, and those only the prior
	// decided (drop.go).
	Resets, Wraps, Ambiguous int64
	// Counts made within Station.Startup after a stop, as Total, Good and
	// Reject are.
	StartupTotal, StartupGood, StartupReject int64
	StopDur, StopN                           int64 // the open stop's, until it ends (reason.go)
	Reasons                                  []reasonTally
	ClockSteps                               int64 // steps of the server's clock (someone set the PLC's clock)
}

func (t *tally) add(o *tally) {
	for i := range t.Dur {
		t.Dur[i] += o.Dur[i]
	}
	t.Total += o.Total
	t.Good += o.Good
	t.Reject += o.Reject
	t.GapParts += o.GapParts
	t.IdealWork += o.IdealWork
	t.NoIdeal += o.NoIdeal
	t.ActualSum += o.ActualSum
	t.ActualN += o.ActualN
	t.Energy += o.Energy
	t.Stops += o.Stops
	t.SmallStops += o.SmallStops
	t.Implausible += o.Implausible
	t.Resets += o.Resets
	t.Wraps += o.Wraps
	t.Ambiguous += o.Ambiguous
	t.StartupTotal += o.StartupTotal
	t.StartupGood += o.StartupGood
	t.StartupReject += o.StartupReject
	t.StopDur += o.StopDur
	t.StopN += o.StopN
	t.ClockSteps += o.ClockSteps
	for _, r := range o.Reasons {
		t.addReason(r)
	}
}

// resolve moves the pending stop time to small or unplanned.
func (t *tally) resolve(small bool) {
	to := catUnplanned
	if small {
		to = catSmall
	}
	t.Dur[to] += t.Dur[catPending]
	t.Dur[catPending] = 0
}

// counting says which counters a station has, so the third count can be
// derived from the other two.
type counting uint8

const (
	countTotal     counting = iota // total [+ reject]
	countGood                      // good [+ reject]
	countGoodTotal                 // good and total
)

// counts returns total, good and reject as a station's roles define them.
func (t *tally) counts(c counting) (total, good, reject int64) {
	return derive(c, t.Total, t.Good, t.Reject)
}

// startupCounts is counts for the parts made during startups.
func (t *tally) startupCounts(c counting) (total, good, reject int64) {
	return derive(c, t.StartupTotal, t.StartupGood, t.StartupReject)
}

func derive(c counting, total, good, reject int64) (int64, int64, int64) {
	switch c {
	case countGood:
		return good + reject, good, reject
	case countGoodTotal:
		return total, good, total - good
	}
	return total, total - reject, reject
}
