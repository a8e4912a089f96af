package runner

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"fmt"
	"slices"
	"time"

	fb "factorybridge"
)

// The engine takes a station's readings in time order and never accounts
// time twice, and a record's end is the time it was ticked to. Readings of
// several servers (or of several items in one notification) reach the
// buffer out of time order by up to a publishing interval, so the runner
// holds the readings of OEE nodes, and the connection events, until the
// clock less the lag passes them, and feeds them to the engine in time
// order just before each tick. Held readings are saved with the state.

// heldItem is a reading, or a connection event, waiting for its time.
type heldItem struct {
	at int64 // Unix ns
	r  fb.Reading
	ev *connEvent
}

// hold keeps a reading of an OEE node for release at its Time (on the
// bridge's clock); others are dropped. A reading with no time, or from
// further ahead of the bridge's clock than MaxAhead (a PLC whose clock is
// ahead, with clock_correction off), is taken at the bridge's time: the
// records stay on the bridge's clock whatever a PLC's says.
func (r *Runner) hold(rd *fb.Reading) {
	if !r.eng.Observes(rd.Name) {
		return
	}
	now, t := r.now(), rd.Time()
	switch {
	case t.IsZero():
		t = now
	case t.After(now.Add(MaxAhead)):
		r.warnAhead(rd.Server, t.Sub(now))
		t = now
	}
	it := heldItem{at: t.UnixNano(), r: *rd}
	it.r.BridgeTime = t // what the engine takes it at
	r.held = append(r.held, it)
}

// warnAhead logs, once per server, that its readings come from ahead of
// the bridge's clock.
func (r *Runner) warnAhead(server string, ahead time.Duration) {
	if r.ahead[server] {
		return
	}
	r.ahead[server] = true
	r.log.Warn("oee: readings from ahead of the bridge's clock count at the bridge's time; is the server's clock_correction off?",
		"server", server, "ahead", ahead.Round(time.Millisecond))
}

func (r *Runner) holdEvent(ev connEvent) {
	r.held = append(r.held, heldItem{at: ev.at.UnixNano(), ev: &ev})
}

// release feeds the engine, in time order, what is held up to through.
func (r *Runner) release(through time.Time) {
	slices.SortStableFunc(r.held, func(a, b heldItem) int { return cmp.Compare(a.at, b.at) })
	n := 0
	for ; n < len(r.held) && r.held[n].at <= through.UnixNano(); n++ {
		it := r.held[n]
		if it.ev != nil {
			ev := r.apply(*it.ev)
			it.ev = &ev
		} else {
			r.observe(&it.r)
		}
		r.record(it) // for a gap filled later (gap.go)
	}
	r.held = slices.Delete(r.held, 0, n)
}

// latestHeld returns the time of the last item held, or the zero time.
func (r *Runner) latestHeld() time.Time {
	var t int64
	for _, it := range r.held {
		t = max(t, it.at)
	}
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(0, t)
}

// savedState is what the runner stores with its cursor: the time the
// engine was ticked to, the engine's state and the readings held.
type savedState struct {
	Through time.Time
	Engine  []byte
	Held    []fb.Reading
}

// stateVersion leads the saved bytes; another version starts afresh.
const stateVersion = 1

func (r *Runner) marshal(through time.Time) ([]byte, error) {
	eng, err := r.eng.MarshalBinary()
	if err != nil {
		return nil, err
	}
	s := savedState{Through: through, Engine: eng}
	for _, it := range slices.Concat(r.held, r.backfilled) {
		if it.ev == nil {
			s.Held = append(s.Held, it.r)
		}
	}
	var b bytes.Buffer
	b.WriteByte(stateVersion)
	if err := gob.NewEncoder(&b).Encode(&s); err != nil {
		return nil, fmt.Errorf("oee: encode state: %w", err)
	}
	return b.Bytes(), nil
}

func unmarshalState(data []byte) (savedState, error) {
	var s savedState
	if len(data) == 0 || data[0] != stateVersion {
		return s, fmt.Errorf("oee: saved state of an unknown version")
	}
	err := gob.NewDecoder(bytes.NewReader(data[1:])).Decode(&s)
	return s, err
}
