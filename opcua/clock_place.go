package opcua

import (
	"context"
	"time"

	"github.com/gopcua/opcua/ua"

	"factorybridge"
)

// placerFor returns the placer of the readings of one notification's items,
// received at recv on the bridge's clock. When a timestamp says that the
// server's clock moved since the last measurement (someone set the PLC's
// clock), the clock is measured again first, so that the readings after
// a step are already placed by the new offset and the OEE sees neither a
// jump nor a gap; readings of this notification from before the step keep
// the old one.
func (s *session) placerFor(ctx context.Context, items []*ua.MonitoredItemNotification, recv time.Time) placer {
	c := s.c
	before, remeasure := c.suspect(items, recv)
	if remeasure {
		s.measureClock(ctx)
	}
	p := c.placer()
	if remeasure {
		p.afterStep(before, c.opts.Clock.SkewThreshold)
	}
	return p
}

// suspect reports whether the items' timestamps disagree with the last
// measured offset by more than the threshold, and that offset. A server
// timestamp tells both ways (it is the server's clock when it sampled the
// value, at most a publishing interval and a backlog ago); a source
// timestamp only forward, because a value may have changed long ago. Once
// a suspicion proved wrong (a backlog), suspicions rest for suspectQuiet.
func (c *Client) suspect(items []*ua.MonitoredItemNotification, recv time.Time) (time.Duration, bool) {
	k, thr := &c.clock, c.opts.Clock.SkewThreshold
	k.mu.Lock()
	defer k.mu.Unlock()
	offset, now := k.last.offset, time.Now()
	if now.Before(k.quiet) {
		return offset, false
	}
	for _, it := range items {
		dv := it.Value
		switch {
		case !dv.ServerTimestamp.IsZero():
			d := dv.ServerTimestamp.Sub(recv) - offset
			if d > thr || d < -thr {
				k.quiet = now.Add(suspectQuiet) // lifted again when a step is found
				return offset, true
			}
		case !dv.SourceTimestamp.IsZero() && dv.SourceTimestamp.Sub(recv)-offset > thr:
			k.quiet = now.Add(suspectQuiet)
			return offset, true
		}
	}
	return offset, false
}

// placer places readings on the bridge's clock with one snapshot of the
// clock's state.
type placer struct {
	timestamps string
	correct    bool
	offset     time.Duration // effective
	// before and tolerance are set for the batch in which a step was
	// found: its readings take whichever offset does not put them in the
	// future.
	before    time.Duration
	tolerance time.Duration
	step      bool
}

func (c *Client) placer() placer {
	k, o := &c.clock, &c.opts.Clock
	k.mu.Lock()
	defer k.mu.Unlock()
	return placer{timestamps: o.Timestamps, offset: effective(k.last.offset),
		correct: o.Correction == CorrectionAuto && k.measured}
}

// afterStep arms the placer for a batch that showed a step, when the
// measurement found one: readings may carry the old offset or the new.
func (p *placer) afterStep(before, threshold time.Duration) {
	if b := effective(before); b != p.offset && (p.offset-b).Abs() > threshold {
		p.before, p.tolerance, p.step = b, threshold, true
	}
}

// place sets r's BridgeTime: the timestamp chosen, corrected by the
// offset, or recv when the choice is the bridge's or the server sent no
// timestamp. It stays zero when that is the source timestamp.
func (p placer) place(r *factorybridge.Reading, recv time.Time) {
	t := p.chosen(r)
	switch {
	case t.IsZero():
		t = recv
	case p.correct:
		t = p.corrected(t, recv)
	}
	if !t.Equal(r.SourceTime) {
		r.BridgeTime = t
	}
}

// chosen is the timestamp Timestamps picks, with the other as fallback;
// the zero time for TimestampsBridge.
func (p placer) chosen(r *factorybridge.Reading) time.Time {
	switch {
	case p.timestamps == TimestampsBridge:
		return time.Time{}
	case p.timestamps == TimestampsServer && !r.ServerTime.IsZero():
		return r.ServerTime
	case !r.SourceTime.IsZero():
		return r.SourceTime
	}
	return r.ServerTime
}

// corrected moves t by the offset. In the batch of a step, a reading takes
// the latest of the two corrections that does not lie beyond recv (by more
// than the threshold): a reading sampled before the step carries the old
// offset, one after it the new.
func (p placer) corrected(t, recv time.Time) time.Time {
	now := t.Add(-p.offset)
	if !p.step {
		return now
	}
	old, limit := t.Add(-p.before), recv.Add(p.tolerance)
	switch {
	case now.After(limit):
		return old
	case old.After(limit) || now.After(old):
		return now
	}
	return old
}
