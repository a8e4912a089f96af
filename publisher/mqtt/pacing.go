package mqtt

import (
	"time"

	"factorybridge"
	"factorybridge/publisher/wire"
)

// Pacing: when a message goes out.
//
// An OPC UA server sends a subscription's readings once per publishing
// interval, and a publish response lists every node's first sample of the
// cycle, then every node's second, and so on; the bridge takes it in over
// some time (decoding, commits). A message holds a node's head (name, id,
// server, type: ~110 bytes) once and each sample in ~20, so it is compact
// only when it holds all of a node's samples of a cycle. A fixed delay
// after the first reading was read cuts the cycle wherever the delay ends.
//
// So a reading waits for the rest of its publishing cycle: the cycle it
// came in ended by its time plus its server's publishing interval, and
// CycleGrace more lets the cycle's later readings come in (dueOf). A
// message goes out when its first reading is due, at most MaxBatchDelay
// after its first reading was read, or when it is full. A reading the
// bridge takes in within CycleGrace of its cycle's end goes out by then,
// or at most a third of the grace later: its latency from its timestamp
// stays within the publishing interval + 4/3 CycleGrace plus the time to
// send, whatever the message holds. When the bridge takes in a whole cycle
// within CycleGrace, a message holds all of its nodes' samples of the
// cycle. Readings that come later than that are packed by whole cycles
// too, without a latency bound (dueOf).

// maxHeldReadings bounds the readings held in messages being filled;
// beyond it the oldest message goes out before another reading is packed.
// Packing by cycle holds up to a cycle of every node: 300,000 readings at
// 30,000 nodes × 10 Hz and a 1 s interval, at ~70 bytes each (samples,
// node heads, links; BenchmarkPackCycle in publisher/wire) 21 MB; the
// bound is ~37 MB.
var maxHeldReadings = 1 << 19 // a variable for tests

// lateShare: a reading read within the grace of its cycle waits at least
// CycleGrace/lateShare for the readings read with it.
const lateShare = 3

// dueOf is when r, read at readAt, is due to go out: CycleGrace after the
// publishing cycle it came in ended (its time plus its server's interval),
// at least CycleGrace/lateShare after it was read. Readings of no known
// cycle (no time, a server without an interval, heartbeats, backfilled
// readings, OEE records and events) wait CycleGrace after they were read.
// A time ahead of readAt (a server clock that is off) counts as readAt.
//
// A reading read after its cycle's grace (a backlog, a bridge that is
// behind) has missed its latency budget already, so it is packed for
// throughput: it has no due time but until, its cycle's end in the
// readings' time, and goes out once a reading of a later cycle was packed
// (releaseCycles) or the intake paused for CycleGrace (dueAt), at most
// MaxBatchDelay after read. Its message then holds a whole cycle too,
// which is what lets a bridge that fell behind catch up.
func (o *Options) dueOf(r *factorybridge.Reading, readAt time.Time) (due, until time.Time) {
	iv := o.PublishingIntervals[r.Server]
	t := r.Time()
	if iv <= 0 || t.IsZero() || r.Class != factorybridge.ClassReading {
		return readAt.Add(o.CycleGrace), time.Time{}
	}
	end := earlier(t, readAt).Add(iv)
	due = end.Add(o.CycleGrace)
	switch early := readAt.Add(o.CycleGrace / lateShare); {
	case due.Before(readAt):
		return time.Time{}, end
	case due.Before(early):
		return early, time.Time{}
	}
	return due, time.Time{}
}

// holdByCycle notes r, just added to b, as due by dueOf, and notes the
// newest reading time packed (at most when it was read: a clock ahead
// does not release late readings early).
func (s *session) holdByCycle(b *wire.Builder, r *factorybridge.Reading) {
	due, until := s.p.opts.dueOf(r, s.readAt)
	if !due.IsZero() {
		b.Hold(due)
	}
	if !until.IsZero() {
		b.HoldUntil(until)
	}
	if r.Class == factorybridge.ClassReading {
		if t := earlier(r.Time(), s.readAt); t.After(s.newest) {
			s.newest = t
		}
	}
}

// releaseCycles makes the builders whose late readings' cycle has been
// packed (their Until reached the newest reading time packed) due now.
func (s *session) releaseCycles(now time.Time) {
	if !s.newest.After(s.released) {
		return
	}
	s.released = s.newest
	for b := range s.p.packer.Builders() {
		if u := b.Until(); !u.IsZero() && !u.After(s.newest) {
			b.Hold(now)
		}
	}
}

// dueAt is when b goes out: when its earliest reading is due, or, with
// late readings, CycleGrace after the last read that returned readings
// (the intake paused: the rest of their cycle is in); at most
// MaxBatchDelay after its first reading was read.
func (s *session) dueAt(b *wire.Builder) time.Time {
	t := b.Started().Add(s.p.opts.MaxBatchDelay)
	if d := b.Due(); !d.IsZero() && d.Before(t) {
		t = d
	}
	if !b.Until().IsZero() {
		t = earlier(t, s.readAt.Add(s.p.opts.CycleGrace))
	}
	return t
}

// nextDue returns the builder due first and when it is due; nil when
// there is none.
func (s *session) nextDue() (*wire.Builder, time.Time) {
	var next *wire.Builder
	var at time.Time
	for b := range s.p.packer.Builders() {
		if t := s.dueAt(b); next == nil || t.Before(at) {
			next, at = b, t
		}
	}
	return next, at
}

// flushTimer returns a channel that fires when the next builder is due, or
// nil when there is none or the window is full (nothing could be sent).
func (s *session) flushTimer() <-chan time.Time {
	b, at := s.nextDue()
	if b == nil || !s.canSend() {
		return nil
	}
	s.timer.Reset(time.Until(at))
	return s.timer.C
}

// flushDue sends the builders that are due at now, as the window allows.
func (s *session) flushDue(now time.Time) {
	for s.canSend() {
		b, at := s.nextDue()
		if b == nil || now.Before(at) {
			return
		}
		s.send(b)
	}
}

// earlier returns the earlier of a and b.
func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
