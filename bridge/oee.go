package bridge

import (
	"context"
	"errors"
	"sync"
	"time"

	"factorybridge/oee/runner"
	"factorybridge/opcua"
)

// buildOEE makes the OEE runner, or none when no line computes OEE.
func (b *Bridge) buildOEE() error {
	r, err := runner.New(runner.Options{
		Engine: b.cfg.OEEOptions(),
		Store:  b.buf,
		Logger: b.log.With("component", "oee"),
		Lag:    runner.Lag(b.longestPublishingInterval(), b.cfg.Buffer.CommitInterval.D()),
	})
	switch {
	case errors.Is(err, runner.ErrNoStations):
		return nil
	case err != nil:
		return err
	}
	b.oee = r
	return nil
}

// longestPublishingInterval is the longest a reading may wait in its
// server's subscription (or, read cyclically, for its next read) before it
// reaches the buffer.
func (b *Bridge) longestPublishingInterval() time.Duration {
	var pi time.Duration
	for _, n := range b.cfg.Nodes("") {
		pi = max(pi, n.Node.PublishingInterval.D())
		if n.Node.Mode == opcua.ModeRead {
			pi = max(pi, n.Node.ReadInterval.D())
		}
	}
	return pi
}

// oeeOnState is the OPC UA clients' OnState: nil without OEE.
func (b *Bridge) oeeOnState() func(server string, connected bool, at time.Time) {
	if b.oee == nil {
		return nil
	}
	return b.oee.OnState
}

// oeeOnGapFilled is the OPC UA clients' OnGapFilled: nil without OEE.
func (b *Bridge) oeeOnGapFilled() func(server string, nodes []string) {
	if b.oee == nil {
		return nil
	}
	return b.oee.GapFilled
}

// oeeOnClockStep is the OPC UA clients' Clock.OnStep: nil without OEE.
func (b *Bridge) oeeOnClockStep() func(server string, step time.Duration, at time.Time) {
	if b.oee == nil {
		return nil
	}
	return b.oee.OnClockStep
}

// startOEE runs the OEE runner, if any, and returns the function that stops
// it and waits until its final save is done.
func (b *Bridge) startOEE(fail context.CancelCauseFunc) (stop func()) {
	if b.oee == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	goRun(&wg, "oee", b.oee.Run, ctx, fail)
	return func() {
		cancel()
		wg.Wait()
	}
}
