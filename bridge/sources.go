package bridge

import (
	"context"
	"fmt"
	"sync"

	"factorybridge/config"
	"factorybridge/opcua"
)

// source is one OPC UA server's client. It runs with a context of its own
// (a child of Run's), so that a reload can stop it alone.
type source struct {
	name   string
	client *opcua.Client
	cancel context.CancelFunc
	done   chan struct{} // closed when the client's Run returned
}

// runState is where Run runs the sources: its context, its failure, the
// group it waits for. closed is set when the shutdown begins: no source
// starts after it.
type runState struct {
	ctx    context.Context
	fail   context.CancelCauseFunc
	wg     *sync.WaitGroup
	closed bool
}

// newSource builds the client of server name of cfg (no connection yet).
func (b *Bridge) newSource(cfg *config.Config, name string) (*source, error) {
	opts, ok := cfg.OPCUAOptions(name)
	if !ok {
		return nil, fmt.Errorf("server %s: not in the configuration", name)
	}
	opts.Sink, opts.Logger, opts.OnState = countingSink{b.buf, &b.lines}, b.log.With("component", "opcua"), b.oeeOnState()
	opts.Watermarks, opts.OnGapFilled = b.buf, b.oeeOnGapFilled()
	opts.Clock.OnStep = b.oeeOnClockStep()
	sec := &security{cfg: cfg, log: b.log.With("component", "pki")}
	if err := sec.apply(*serverOf(cfg, name), &opts); err != nil {
		return nil, err
	}
	c, err := opcua.New(opts)
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", name, err)
	}
	return &source{name: name, client: c}, nil
}

// startSources starts the sources built so far, and remembers where to
// start those a reload adds.
func (b *Bridge) startSources(run *runState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.run = run
	for _, s := range b.sources {
		b.start(s)
	}
}

// start runs s under b.run; b.mu is held and the shutdown has not begun.
func (b *Bridge) start(s *source) {
	ctx, cancel := context.WithCancel(b.run.ctx)
	s.cancel, s.done = cancel, make(chan struct{})
	run := b.run
	run.wg.Go(func() {
		defer close(s.done)
		if err := s.client.Run(ctx); err != nil && ctx.Err() == nil {
			run.fail(fmt.Errorf("opcua: %w", err))
		}
	})
}

// stop ends a running source and waits until its readings are handed over.
func (s *source) stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
}

// closeSources marks the shutdown begun: a reload starts no source after it.
func (b *Bridge) closeSources() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.run != nil {
		b.run.closed = true
	}
}

// servers returns the running sources. The slice is never changed in place.
func (b *Bridge) servers() []*source {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.sources
}
