package runner

import (
	"context"
	"fmt"
	"sync"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
)

// connEvent is a server's data starting or stopping, or its clock
// stepping, placed in the buffer's sequence: it applies after the entry
// with Seq seq.
type connEvent struct {
	server    string
	connected bool
	at        time.Time
	seq       uint64
	// stations, when not nil, limits the event to these stations (the
	// server's others had their gap filled, gap.go); it is set for a
	// restart's disconnect of every station too.
	stations [][2]string
	// fill marks a GapFilled: filled are the nodes whose gap is known. It
	// is taken when due, not held.
	fill   bool
	filled []string
	step   time.Duration // not zero: the server's clock stepped, the connection is as it was
}

// connEvents is the queue between the OPC UA clients' goroutines and the
// runner's.
type connEvents struct {
	mu sync.Mutex
	q  []connEvent
}

func (e *connEvents) push(ev connEvent) {
	e.mu.Lock()
	e.q = append(e.q, ev)
	e.mu.Unlock()
}

// due removes and returns the events placed at or before seq, in order.
func (e *connEvents) due(seq uint64) []connEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out, keep []connEvent
	for _, ev := range e.q {
		if ev.seq <= seq {
			out = append(out, ev)
		} else {
			keep = append(keep, ev)
		}
	}
	e.q = keep
	return out
}

// OnState is the OPC UA clients' OnState: server's session was lost
// (connected false) or is up (true) at at. It commits what the client has
// handed to the buffer first, so that the event applies after the readings
// of the session it ends (or after the first of the one it starts): the
// engine must not take a lost session's last readings as coming after it.
func (r *Runner) OnState(server string, connected bool, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), finalTimeout)
	defer cancel()
	if err := r.store.Flush(ctx); err != nil {
		r.log.Warn("oee: could not commit before a connection change; it may apply a little early", "server", server, "err", err)
	}
	r.events.push(connEvent{server: server, connected: connected, at: at, seq: r.store.Stats().LastSeq})
}

// OnClockStep is the OPC UA clients' Clock.OnStep: server's clock stepped
// by step, found at at on the bridge's clock. The stations' records of
// that moment are flagged; their time is not touched, since the readings
// come on the bridge's clock. It does not block.
func (r *Runner) OnClockStep(server string, step time.Duration, at time.Time) {
	r.events.push(connEvent{server: server, at: at, step: step, seq: r.store.Stats().LastSeq})
}

// dueEvents holds the connection changes placed at or before seq, to be
// applied in time order with the readings.
func (r *Runner) dueEvents(seq uint64) {
	for _, ev := range r.events.due(seq) {
		if ev.fill {
			r.gapFilled(ev)
			continue
		}
		r.holdEvent(ev)
	}
}

// apply tells the engine a clock step, or a connection change as adapted
// to an open gap (gap.go), and returns the event as applied.
func (r *Runner) apply(ev connEvent) connEvent {
	if ev.step != 0 {
		r.eng.ServerClockStep(ev.server, ev.at)
		r.log.Info("oee: server clock stepped; the records of the moment are flagged, their time is the bridge's",
			"server", ev.server, "step", ev.step.Round(time.Millisecond), "at", ev.at)
		return ev
	}
	ev = r.gapEvent(ev)
	r.applyEvent(ev)
	if ev.connected {
		r.log.Info("oee: server data resumes", "server", ev.server, "at", ev.at)
	} else {
		r.log.Info("oee: server data stops; station time is unknown until it resumes", "server", ev.server, "at", ev.at)
	}
	return ev
}

// applyEvent tells the engine a connection change of a server, or of some
// of its stations.
func (r *Runner) applyEvent(ev connEvent) {
	r.noteDown(ev)
	switch {
	case ev.stations != nil:
		for _, st := range ev.stations {
			if ev.connected {
				r.eng.Connected(st[0], st[1], ev.at)
			} else {
				r.eng.Disconnected(st[0], st[1], ev.at)
			}
		}
	case ev.connected:
		r.eng.ServerConnected(ev.server, ev.at)
	default:
		r.eng.ServerDisconnected(ev.server, ev.at)
	}
}

// restore loads the saved state and position. The readings the last
// process committed after its last save are taken as seen; the time from
// the last of them to now, when the bridge was down, is unknown: every
// station is marked disconnected from then until its server's session is
// up again.
func (r *Runner) restore(ctx context.Context) error {
	last := r.store.Stats().LastSeq // committed by the last process: this one's clients start after
	cursor, saved, err := r.store.LoadConsumer(Consumer)
	if err != nil {
		return err
	}
	r.cursor = cursor
	if saved == nil {
		r.log.Info("oee: no saved state; starting afresh", "seq", cursor)
		return nil
	}
	s, err := unmarshalState(saved)
	if err == nil {
		err = r.eng.UnmarshalBinary(s.Engine)
	}
	if err != nil {
		r.log.Warn("oee: saved state does not fit this configuration; starting afresh", "seq", cursor, "err", err)
		r.eng, err = oee.New(r.opts) // UnmarshalBinary may have restored part of it
		return err
	}
	for i := range s.Held { // taken before a crash: they precede the gap
		r.hold(&s.Held[i])
	}
	if err := r.takeCommitted(ctx, last); err != nil {
		return err
	}
	at := maxTime(s.Through, r.latestHeld())
	r.startGap(r.servers(), at) // the saved engine: a filled gap revises from it
	r.release(at)
	down := heldItem{at: at.UnixNano(), ev: &connEvent{at: at, stations: r.stations}}
	r.applyItem(down)
	r.record(down)
	r.ticked = at
	r.log.Info("oee: state restored; the time since is unknown until the servers are back", "seq", cursor, "through", at)
	return nil
}

// takeCommitted holds the readings committed up to seq last, after the
// saved cursor: a killed process committed them but did not save again.
func (r *Runner) takeCommitted(ctx context.Context, last uint64) error {
	ctx, cancel := context.WithTimeout(ctx, finalTimeout)
	defer cancel()
	for r.cursor < last && ctx.Err() == nil {
		rs, err := r.read(ctx)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("oee: read buffer after seq %d: %w", r.cursor, err)
		}
		for i := 0; i < len(rs) && rs[i].Seq <= last; i++ {
			if rs[i].Class == fb.ClassReading {
				r.hold(&rs[i])
			}
			r.cursor = rs[i].Seq
		}
	}
	return nil
}
