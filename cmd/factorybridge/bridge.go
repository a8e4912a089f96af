package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"factorybridge/buffer"
	"factorybridge/config"
	"factorybridge/opcua"
	"factorybridge/publisher"
)

// Shutdown bounds: how long the final commit and the final publish may take.
const (
	defaultFlushTimeout = 5 * time.Second
	defaultDrainTimeout = 10 * time.Second
)

// bridge is the running system: one OPC UA client per server feeding the
// buffer, and the publisher draining it.
type bridge struct {
	log          *slog.Logger
	buf          *buffer.Buffer
	clients      []*opcua.Client
	pub          *publisher.Publisher
	oee          *oeeRunner // nil when no line computes OEE (oee.go)
	drainTimeout time.Duration
	// setLogLevel changes the log level at run time (the IoT Hub twin's
	// desired logLevel).
	setLogLevel func(string) error
}

// newBridge opens the buffer and builds the components; nothing connects yet.
func newBridge(cfg *config.Config, log *slog.Logger, setLogLevel func(string) error) (*bridge, error) {
	buf, err := buffer.Open(buffer.Options{
		Path:              cfg.Buffer.Path,
		MaxBytes:          cfg.Buffer.MaxBytes,
		CommitInterval:    cfg.Buffer.CommitInterval.D(),
		CommitMaxReadings: cfg.Buffer.CommitMaxReadings,
		Logger:            log.With("component", "buffer"),
	})
	if err != nil {
		return nil, err
	}
	b := &bridge{log: log, buf: buf, drainTimeout: defaultDrainTimeout, setLogLevel: setLogLevel}
	if err := b.build(cfg); err != nil {
		buf.Close()
		return nil, err
	}
	return b, nil
}

func (b *bridge) build(cfg *config.Config) error {
	var err error
	if b.oee, err = newOEERunner(cfg, b.buf, b.log.With("component", "oee")); err != nil {
		return err
	}
	sec := &security{cfg: cfg, log: b.log.With("component", "pki")}
	for _, srv := range cfg.Servers {
		opts := opcua.Options{Sink: b.buf, Logger: b.log.With("component", "opcua"), OnState: b.oeeOnState()}
		if err := sec.apply(srv, &opts); err != nil {
			return err
		}
		c, err := opcua.New(srv, cfg.Nodes(srv.Name), opts)
		if err != nil {
			return fmt.Errorf("server %s: %w", srv.Name, err)
		}
		b.clients = append(b.clients, c)
	}
	opts := publisher.Options{BridgeID: cfg.Bridge.ID, Queue: b.buf, Logger: b.log.With("component", "mqtt")}
	if cfg.IoTHub != nil {
		hub, err := b.hub(cfg)
		if err != nil {
			return err
		}
		opts.Hub, opts.Logger = hub, b.log.With("component", "iothub")
	}
	pub, err := publisher.New(cfg.MQTT, opts)
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	b.pub = pub
	return nil
}

// run runs every component until ctx ends or one fails, then shuts down in
// order: stop reading OPC UA, commit what is in flight, publish for a bounded
// time, close the store.
func (b *bridge) run(ctx context.Context) error {
	ctx, fail := context.WithCancelCause(ctx)
	bufCtx, stopBuf := context.WithCancel(context.Background())
	pubCtx, stopPub := context.WithCancel(context.Background())
	defer stopBuf()
	defer stopPub()
	var bufWG, pubWG, srcWG sync.WaitGroup
	goRun(&bufWG, "buffer", b.buf.Run, bufCtx, fail)
	stopOEE := b.startOEE(fail)
	goRun(&pubWG, "publisher", b.pub.Run, pubCtx, fail)
	for _, c := range b.clients {
		goRun(&srcWG, "opcua", c.Run, ctx, fail)
	}
	<-ctx.Done()
	cause := context.Cause(ctx)
	b.log.Info("stopping: no new readings; committing and publishing what is buffered")
	srcWG.Wait()
	b.flush()
	stopOEE() // its final records and state are committed before the drain
	b.drain()
	stopPub()
	pubWG.Wait()
	stopBuf()
	bufWG.Wait()
	err := b.buf.Close()
	st := b.buf.Stats()
	b.log.Info("stopped", "buffer_depth", st.Depth, "last_seq", st.LastSeq)
	if errors.Is(cause, context.Canceled) {
		cause = nil
	}
	return errors.Join(cause, err)
}

// goRun runs a component; an error other than its context ending stops the
// whole bridge.
func goRun(wg *sync.WaitGroup, name string, run func(context.Context) error, ctx context.Context, fail context.CancelCauseFunc) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := run(ctx); err != nil && ctx.Err() == nil {
			fail(fmt.Errorf("%s: %w", name, err))
		}
	}()
}

func (b *bridge) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), defaultFlushTimeout)
	defer cancel()
	if err := b.buf.Flush(ctx); err != nil {
		b.log.Error("final commit did not complete; pending readings are lost", "err", err)
	}
}

// drain lets the publisher send what is buffered until it is acknowledged or
// the drain timeout passes; what remains stays in the buffer for the next start.
func (b *bridge) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), b.drainTimeout)
	defer cancel()
	if err := b.pub.Drain(ctx); err != nil {
		b.log.Warn("final publish incomplete; readings stay in the buffer for the next start",
			"buffer_depth", b.buf.Stats().Depth, "timeout", b.drainTimeout, "err", err)
	}
}
