package opcua

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

// measureClock measures the server's clock against the bridge's and
// records the result. A failure is logged at debug level and changes
// nothing: the readings keep the last offset measured.
func (s *session) measureClock(ctx context.Context) {
	smp, err := s.bestSample(ctx)
	if err != nil {
		s.c.log.Debug("server clock not measured", "err", err)
		return
	}
	s.c.clockMeasured(smp)
}

// bestSample takes up to clockSamples samples and returns the one with the
// shortest round trip; it stops at the first failure.
func (s *session) bestSample(ctx context.Context) (clockSample, error) {
	var best clockSample
	for i := range clockSamples {
		smp, err := s.sampleClock(ctx)
		if err != nil {
			if i > 0 {
				return best, nil
			}
			return best, err
		}
		if i == 0 || smp.rtt < best.rtt {
			best = smp
		}
	}
	return best, nil
}

// sampleClock reads Server/ServerStatus/CurrentTime (i=2258) and takes the
// server's time as of half-way through the round trip:
// offset = serverTime − (send + recv)/2. A server that answers without a
// CurrentTime is timed by its response header.
func (s *session) sampleClock(ctx context.Context) (clockSample, error) {
	ctx, cancel := context.WithTimeout(ctx, s.c.opts.RequestTimeout)
	defer cancel()
	sent, mono := s.c.now(), time.Now()
	res, err := s.ua.Read(ctx, &ua.ReadRequest{
		NodesToRead: []*ua.ReadValueID{{NodeID: ua.NewNumericNodeID(0, id.Server_ServerStatus_CurrentTime)}},
	})
	rtt := time.Since(mono)
	if err != nil {
		return clockSample{}, fmt.Errorf("read server time: %w", err)
	}
	st := serverTime(res)
	if st.IsZero() {
		return clockSample{}, errors.New("read server time: the server sent none")
	}
	mid := sent.Add(rtt / 2)
	return clockSample{offset: st.Sub(mid), rtt: rtt, at: mid}, nil
}

// serverTime is the CurrentTime a Read returned, else the response
// header's timestamp, else the zero time.
func serverTime(res *ua.ReadResponse) time.Time {
	if len(res.Results) == 1 && res.Results[0] != nil && isGood(res.Results[0].Status) && res.Results[0].Value != nil {
		if t, ok := res.Results[0].Value.Value().(time.Time); ok && !t.IsZero() {
			return t
		}
	}
	if h := res.ResponseHeader; h != nil {
		return h.Timestamp
	}
	return time.Time{}
}

// watchClock measures the server's clock every CheckInterval until ctx
// ends.
func (s *session) watchClock(ctx context.Context) {
	t := time.NewTicker(s.c.opts.Clock.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.measureClock(ctx)
		}
	}
}

// clockMeasured records a measurement: the offset readings are corrected
// by from now on, the warning, a step of the server's clock (an offset
// that changed by more than the threshold since the last measurement),
// and the client's stats.
func (c *Client) clockMeasured(smp clockSample) {
	k, o := &c.clock, &c.opts.Clock
	k.mu.Lock()
	prev, had := k.last, k.measured
	k.last, k.measured = smp, true
	step := time.Duration(0)
	if d := smp.offset - prev.offset; had && d.Abs() > o.SkewThreshold {
		step = d
		k.steps++
		k.quiet = time.Time{} // the next suspicion is a new step
	}
	verdict := k.judge(smp.offset, o.SkewThreshold)
	st := ClockStats{Offset: smp.offset, Uncertainty: smp.rtt / 2, MeasuredAt: smp.at, Skewed: k.warned,
		Correcting: o.Correction == CorrectionAuto && o.Timestamps != TimestampsBridge && effective(smp.offset) != 0,
		Steps:      k.steps}
	c.stats.update(func(s *Stats) { s.Clock = st }) // under k.mu: measurements in the order recorded
	k.mu.Unlock()
	c.logClock(verdict, smp, prev.offset, step)
	if step != 0 && o.OnStep != nil {
		o.OnStep(c.opts.Name, step, smp.at)
	}
}

// logClock logs what a measurement changed: one line at most.
func (c *Client) logClock(v clockVerdict, smp clockSample, prev, step time.Duration) {
	attrs := []any{"offset", smp.offset.Round(time.Millisecond), "uncertainty", (smp.rtt / 2).Round(time.Microsecond),
		"threshold", c.opts.Clock.SkewThreshold}
	if step != 0 {
		attrs = append(attrs, "step", step.Round(time.Millisecond))
	}
	switch v {
	case clockSkewed:
		c.log.Warn("server clock differs from the bridge's; "+c.correctionNote(), attrs...)
	case clockChanged:
		c.log.Warn("server clock offset changed; "+c.correctionNote(), append(attrs, "previous", prev.Round(time.Millisecond))...)
	case clockAgrees:
		c.log.Info("server clock agrees with the bridge's again", attrs...)
	default:
		if step != 0 {
			c.log.Info("server clock stepped", attrs...)
		}
	}
}

// correctionNote says what the bridge does about an offset.
func (c *Client) correctionNote() string {
	switch {
	case c.opts.Clock.Timestamps == TimestampsBridge:
		return "readings are placed at the time the bridge receives them"
	case c.opts.Clock.Correction == CorrectionAuto:
		return "readings' times are corrected by the offset (messages keep the server's timestamps too)"
	}
	return "clock_correction is off: readings keep the server's times"
}
