// Package bridge is factorybridge's running system: built from a validated
// configuration, it owns the OPC UA clients, the durable buffer, the OEE
// runner and the publisher, and every goroutine they and it start (status
// reporting, the profiler). It is the only package that takes a
// *config.Config whole; each component gets its own Options, translated by
// config.
//
// The data path: opcua.Client → buffer (bbolt commit) → publisher → broker or
// IoT Hub, with the OEE runner as the buffer's second consumer writing its
// records back into the buffer. Shutdown flows the same way: stop reading
// OPC UA, commit what is in flight, let the OEE runner take and save
// everything committed, publish for a bounded time, stop the publisher,
// close the buffer. Each stage has its own context, so that one stage
// ending does not cut the next one short.
package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"factorybridge/buffer"
	"factorybridge/config"
	"factorybridge/oee"
	"factorybridge/oee/runner"
	"factorybridge/publisher"
	"factorybridge/publisher/mqtt"
)

// Shutdown bounds: how long the final commit and the final publish may take.
const (
	DefaultFlushTimeout = 5 * time.Second
	DefaultDrainTimeout = 10 * time.Second
)

// Options are the runtime's dependencies and what the command line sets.
// Zero values mean the documented defaults.
type Options struct {
	// Logger receives every component's logs; nil discards them.
	Logger *slog.Logger
	// Version and Commit are the build's, reported in the status, the
	// twin, the metrics and the presence message.
	Version, Commit string
	// SetLogLevel changes the log level at run time (the IoT Hub twin's
	// desired logLevel); nil refuses such changes.
	SetLogLevel func(level string) error
	// StatusInterval is how often OnStatus is called; zero never.
	StatusInterval time.Duration
	// OnStatus receives a status snapshot every StatusInterval; nil logs
	// it as an INFO "status" line.
	OnStatus func(Status)
	// DebugAddr, when set, serves Go's profiler on this loopback address.
	DebugAddr string
	// HTTPListen overrides [http].listen, the address of the status page,
	// metrics and health endpoint: "" keeps the configuration's, "off"
	// serves nothing.
	HTTPListen string
	// SampleInterval is how often the counters behind rates, the drain
	// estimate and the page's charts are sampled. Default
	// DefaultSampleInterval.
	SampleInterval time.Duration
	// FlushTimeout and DrainTimeout bound the final commit and the final
	// publish of a shutdown. Defaults DefaultFlushTimeout and
	// DefaultDrainTimeout.
	FlushTimeout, DrainTimeout time.Duration
}

// Bridge is the running system. Create it with New, start it with Run;
// Status may be called from any goroutine.
type Bridge struct {
	opts    Options
	log     *slog.Logger
	started time.Time

	// What a reload replaces (reload.go): the configuration, its file's
	// digest and the OPC UA sources, read through config(), digest() and
	// servers(). applyMu makes reloads one at a time.
	mu      sync.RWMutex
	cfg     *config.Config
	dig     string
	sources []*source // in configuration order; a reload replaces the slice
	run     *runState // set by Run: where sources run
	applyMu sync.Mutex

	lines   linesRef       // readings per server and line
	queue   *countingQueue // the buffer as the publisher sees it
	hist    *history
	metrics *metrics

	buf *buffer.Buffer
	pub publisher.Publisher
	oee *runner.Runner // nil when no line computes OEE
}

// New opens the buffer and builds every component from cfg (loaded and
// validated); nothing connects until Run. It warns about secret files that
// every user can read.
func New(cfg *config.Config, opts Options) (*Bridge, error) {
	opts = withDefaults(opts)
	b := &Bridge{cfg: cfg, opts: opts, log: opts.Logger, started: time.Now(), dig: configDigest(cfg.File),
		hist: newHistory(opts.SampleInterval)}
	b.lines.Store(newLineStats(cfg))
	b.metrics = newMetrics(b)
	warnReadableSecrets(cfg, b.log)
	bo := cfg.BufferOptions()
	bo.Logger, bo.OnCommit = b.log.With("component", "buffer"), b.lines.committed
	buf, err := buffer.Open(bo)
	if err != nil {
		return nil, err
	}
	b.buf = buf
	b.queue = &countingQueue{next: buf, lines: &b.lines}
	if err := b.build(); err != nil {
		buf.Close()
		return nil, err
	}
	return b, nil
}

func withDefaults(o Options) Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = DefaultFlushTimeout
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.SampleInterval <= 0 {
		o.SampleInterval = DefaultSampleInterval
	}
	if o.OnStatus == nil {
		log := o.Logger
		o.OnStatus = func(s Status) { log.Info("status", s.Attrs()...) }
	}
	return o
}

func (b *Bridge) build() error {
	if err := b.buildOEE(); err != nil {
		return err
	}
	if err := b.buildSources(); err != nil {
		return err
	}
	return b.buildPublisher()
}

func (b *Bridge) buildSources() error {
	for _, srv := range b.cfg.Servers {
		s, err := b.newSource(b.cfg, srv.Name)
		if err != nil {
			return err
		}
		b.sources = append(b.sources, s)
	}
	return nil
}

// mqttOptions are the plain MQTT publisher's options for cfg, whose
// file's digest the presence message carries.
func (b *Bridge) mqttOptions(cfg *config.Config, digest string) mqtt.Options {
	opts := cfg.MQTTOptions()
	opts.Queue, opts.Logger = b.queue, b.log.With("component", "mqtt")
	opts.AckLatency, opts.Presence = b.metrics.observeAck, b.presence(cfg, digest)
	return opts
}

func (b *Bridge) buildPublisher() error {
	if b.cfg.IoTHub != nil {
		pub, err := b.hub()
		if err != nil {
			return err
		}
		b.pub = pub
		return nil
	}
	pub, err := mqtt.New(b.mqttOptions(b.cfg, b.dig))
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	b.pub = pub
	return nil
}

// Run runs every component until ctx ends or one fails, then shuts down in
// order: stop reading OPC UA, commit what is in flight, let the OEE runner
// save, publish for a bounded time, stop the publisher, close the store. It
// returns when every goroutine it started has ended; the error is the
// failing component's, or the store's on close.
func (b *Bridge) Run(ctx context.Context) error {
	ctx, fail := context.WithCancelCause(ctx)
	bufCtx, stopBuf := context.WithCancel(context.Background())
	pubCtx, stopPub := context.WithCancel(context.Background())
	defer stopBuf()
	defer stopPub()
	var bufWG, pubWG, srcWG, auxWG sync.WaitGroup
	goRun(&bufWG, "buffer", b.buf.Run, bufCtx, fail)
	stopOEE := b.startOEE(fail)
	goRun(&pubWG, "publisher", b.pub.Run, pubCtx, fail)
	b.startSources(&runState{ctx: ctx, fail: fail, wg: &srcWG})
	b.startAux(ctx, &auxWG)
	<-ctx.Done()
	cause := context.Cause(ctx)
	b.log.Info("stopping: no new readings; committing and publishing what is buffered")
	b.closeSources()
	srcWG.Wait()
	b.flush()
	stopOEE() // its final records and state are committed before the drain
	b.drain()
	stopPub()
	pubWG.Wait()
	stopBuf()
	bufWG.Wait()
	auxWG.Wait()
	err := b.buf.Close()
	st := b.buf.Stats()
	b.log.Info("stopped", "buffer_depth", st.Depth, "last_seq", st.LastSeq)
	if errors.Is(cause, context.Canceled) {
		cause = nil
	}
	return errors.Join(cause, err)
}

// startAux starts what watches the system rather than moving data: the
// sampler, the status reporter, the HTTP endpoint and the profiler. They
// end with ctx, when the shutdown starts, and Run waits for them. A status
// page that cannot listen is logged and the bridge runs on: the data path
// matters more than its view.
func (b *Bridge) startAux(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(func() { b.hist.run(ctx, b.buf.Stats, b.oeeRecords) })
	if addr := b.httpListen(); addr != "" {
		wg.Go(func() {
			if err := b.serveHTTP(ctx, addr); err != nil {
				b.log.Error("status page, metrics and health not served", "err", err)
			}
		})
	}
	if b.opts.StatusInterval > 0 {
		wg.Go(func() { b.reportStatus(ctx) })
	}
	if b.opts.DebugAddr != "" {
		wg.Go(func() {
			if err := serveDebug(ctx, b.opts.DebugAddr, b.log); err != nil {
				b.log.Error("profiler not started", "err", err)
			}
		})
	}
}

// httpListen is the HTTP endpoint's address, "" for none.
func (b *Bridge) httpListen() string {
	switch b.opts.HTTPListen {
	case "":
		return b.config().HTTPListen()
	case config.Off:
		return ""
	}
	return b.opts.HTTPListen
}

// oeeRecords are the latest rolling records, none without OEE.
func (b *Bridge) oeeRecords() []oee.Record {
	if b.oee == nil {
		return nil
	}
	return b.oee.Current()
}

// goRun runs a component; an error other than its context ending stops the
// whole bridge.
func goRun(wg *sync.WaitGroup, name string, run func(context.Context) error, ctx context.Context, fail context.CancelCauseFunc) {
	wg.Go(func() {
		if err := run(ctx); err != nil && ctx.Err() == nil {
			fail(fmt.Errorf("%s: %w", name, err))
		}
	})
}

func (b *Bridge) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.FlushTimeout)
	defer cancel()
	if err := b.buf.Flush(ctx); err != nil {
		b.log.Error("final commit did not complete; pending readings are lost", "err", err)
	}
}

// drain lets the publisher send what is buffered until it is acknowledged or
// the drain timeout passes; what remains stays in the buffer for the next start.
func (b *Bridge) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.DrainTimeout)
	defer cancel()
	if err := b.pub.Drain(ctx); err != nil {
		b.log.Warn("final publish incomplete; readings stay in the buffer for the next start",
			"buffer_depth", b.buf.Stats().Depth, "timeout", b.opts.DrainTimeout, "err", err)
	}
}

// config is the configuration the bridge runs on; a reload replaces it.
func (b *Bridge) config() *config.Config {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.cfg
}

// digest is the running configuration file's digest.
func (b *Bridge) digest() string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.dig
}
