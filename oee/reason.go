package oee

import (
	"fmt"
	"slices"
	"strconv"

	fb "factorybridge"
)

// maxReasons bounds the reasons a tally keeps; codes beyond it are pooled
// under the code "" with their loss class, so loss totals stay whole.
const maxReasons = 32

// reasonTally is the time and stops of one reason code, in one loss class,
// in one tally. Station is set only in line sums.
type reasonTally struct {
	Station, Code string
	Loss          Loss
	Dur, N        int64
}

// checkStation rejects reason and startup settings the engine cannot use.
func checkStation(o *Station) error {
	for code, r := range o.Reasons {
		if r.Loss != "" && !slices.Contains(LossClasses(), r.Loss) {
			return fmt.Errorf("reason %q: unknown loss class %q", code, r.Loss)
		}
	}
	if o.Startup < 0 || o.Startup > MaxStartup {
		return fmt.Errorf("startup %s is not between 0 and %s", o.Startup, MaxStartup)
	}
	return nil
}

// onReason takes the stop_reason node's value: 0 or empty is no reason. A
// reason reported while a stop is open is that stop's reason, whichever of
// the two the PLC wrote first; "no reason" does not clear an open stop's,
// because PLCs clear the code when the stop ends.
func (s *station) onReason(r *fb.Reading) {
	code := ""
	if r.IsGood() {
		code = productKey(r.Value)
	}
	if code == "0" {
		code = ""
	}
	s.S.ReasonVal = code
	if code != "" && s.S.Stop.open() {
		s.S.Stop.Code = code
	}
}

// reasonCode is the code of a stop beginning in state key: the reason
// node's, else the state's value.
func (s *station) reasonCode(key int64) string {
	switch {
	case s.S.ReasonVal != "":
		return s.S.ReasonVal
	case s.machinery:
		return strconv.FormatInt(key>>8, 10) + "/" + strconv.FormatInt(key&0xff, 10)
	}
	return strconv.FormatInt(key, 10)
}

// stopLoss is the loss class of the open stop, as far as it is known: a
// pending stop counts as unplanned until it is classified.
func (s *station) stopLoss() Loss {
	p := &s.S.Stop
	small := p.Bucket == BucketSmallStop || p.Small
	return lossOf(small, p.Bucket == BucketPlannedStop, s.reasons[p.Code].Loss)
}

// lossOf is the loss class of a stop: small stops are small stops whatever
// their reason says; availability losses take their reason's class.
func lossOf(small, planned bool, reason Loss) Loss {
	switch {
	case small:
		return LossSmallStop
	case reason != "" && reason != LossSmallStop:
		return reason
	case planned:
		return LossPlannedStop
	}
	return LossBreakdown
}

// closeReason gives the open stop's time and count, in every tally that
// still holds some, to its reason.
func (s *station) closeReason() {
	code, loss := s.S.Stop.Code, s.stopLoss()
	for i := range s.S.Ring {
		s.S.Ring[i].settleStop(code, loss)
	}
	for _, p := range s.line.S.Open {
		p.St[s.idx].settleStop(code, loss)
	}
}

// settleStop moves the open stop's time and count to a reason.
func (t *tally) settleStop(code string, loss Loss) {
	if t.StopDur != 0 || t.StopN != 0 {
		t.addReason(reasonTally{Code: code, Loss: loss, Dur: t.StopDur, N: t.StopN})
		t.StopDur, t.StopN = 0, 0
	}
}

// addReason adds r to the tally's entry of the same station, code and loss.
func (t *tally) addReason(r reasonTally) {
	i := slices.IndexFunc(t.Reasons, func(x reasonTally) bool {
		return x.Code == r.Code && x.Loss == r.Loss && x.Station == r.Station
	})
	if i < 0 && len(t.Reasons) >= maxReasons && r.Code != "" {
		r.Code = ""
		t.addReason(r)
		return
	}
	if i < 0 {
		t.Reasons = append(t.Reasons, reasonTally{Station: r.Station, Code: r.Code, Loss: r.Loss})
		i = len(t.Reasons) - 1
	}
	t.Reasons[i].Dur += r.Dur
	t.Reasons[i].N += r.N
}

// withOpenStop returns a copy of t's reasons with the open stop's share
// given to the station's open stop, for a record made while it goes on.
func (s *station) withOpenStop(t *tally) []reasonTally {
	out := tally{Reasons: slices.Clone(t.Reasons)}
	if t.StopDur != 0 || t.StopN != 0 {
		out.addReason(reasonTally{Code: s.S.Stop.Code, Loss: s.stopLoss(), Dur: t.StopDur, N: t.StopN})
	}
	for i := range out.Reasons {
		out.Reasons[i].Station = s.name
	}
	return out.Reasons
}
