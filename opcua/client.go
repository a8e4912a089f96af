// Package opcua is the bridge's OPC UA source. A Client holds one gopcua
// session per server, subscribes to the configured nodes (one subscription per
// publishing interval), turns every data change into a typed
// factorybridge.Reading and hands it to a factorybridge.Sink.
//
// The bridge, not gopcua, owns reconnection: gopcua's AutoReconnect is off
// and any error (connect, subscribe, publish, a lost subscription, the
// watchdog) closes the gopcua client completely; Run then builds a new one
// from scratch after a capped, jittered back-off. A rebuilt session resolves
// namespace URIs again and re-creates every subscription, so nothing depends
// on state a restarted server may have lost.
//
// gopcua swallows the server's keep-alive messages (empty publish responses
// never reach the notification channel), so the watchdog cannot see them. A
// session counts as alive when data arrives or when a cheap Read of
// Server/ServerStatus/CurrentTime (i=2258) succeeds; the client sends that
// probe only after a third of the watchdog limit passed without data.
package opcua

import (
	"cmp"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gopcua/opcua/ua"

	"factorybridge"
	"factorybridge/config"
)

// Defaults for the zero fields of Options.
const (
	DefaultKeepAlive     = 10 * time.Second
	DefaultWatchdogFloor = 10 * time.Second
	DefaultBackoffMin    = time.Second
	DefaultBackoffMax    = 30 * time.Second
	DefaultFlushTimeout  = 5 * time.Second
	// DefaultMaxItemsPerCall is the chunk size of CreateMonitoredItems when
	// the server does not publish MaxMonitoredItemsPerCall (or it is 0).
	DefaultMaxItemsPerCall = 1000
)

// Options are a Client's dependencies and tuning knobs; only Sink is required.
type Options struct {
	// Sink receives every reading. Required.
	Sink factorybridge.Sink
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// VerifyServerCert, when set, is called with the DER certificate (chain)
	// of the endpoint chosen by GetEndpoints and the server's application URI
	// from that endpoint, before every secured session is created; an error
	// fails the connection attempt. It is not called with security policy
	// None, where no certificate is used. gopcua itself does not validate
	// server certificates at all.
	VerifyServerCert func(der []byte, serverURI string) error
	// Certificate (DER), PrivateKey and ApplicationURI are the client's
	// application instance identity for secured sessions; ApplicationURI must
	// be the URI in the certificate. A nil Certificate means the server's
	// configured certificate and key files.
	Certificate    []byte
	PrivateKey     *rsa.PrivateKey
	ApplicationURI string
	// KeepAlive is the requested keep-alive period of every subscription
	// (MaxKeepAliveCount = KeepAlive / publishing interval, at least 1).
	// Zero means DefaultKeepAlive.
	KeepAlive time.Duration
	// WatchdogFloor is the least time a session may stay silent (no data, no
	// successful probe) before it is rebuilt; the limit is
	// max(3 × revised keep-alive period, WatchdogFloor). Zero means
	// DefaultWatchdogFloor.
	WatchdogFloor time.Duration
	// BackoffMin and BackoffMax bound the delay between connection
	// attempts. Zero means DefaultBackoffMin and DefaultBackoffMax.
	BackoffMin, BackoffMax time.Duration
	// MaxItemsPerCall, when positive, caps the monitored items created per
	// call below the server's own limit. Zero means the server's limit.
	MaxItemsPerCall int
	// MaxArrayLen bounds array values; a longer array becomes a Null reading
	// with status BadEncodingLimitsExceeded. Zero means DefaultMaxArrayLen.
	MaxArrayLen int
	// FlushTimeout bounds how long, after Run's context ends, readings
	// already received may still block in Sink.Append. Zero means
	// DefaultFlushTimeout.
	FlushTimeout time.Duration
	// Now is the clock of Stats and log timestamps; nil means time.Now.
	Now func() time.Time
	// OnState, when set, is told when the server's data starts to flow
	// (connected: a session with its subscriptions is up) and when it stops
	// (the session failed or no connection could be made), at the time it
	// happened. The readings of a lost session have been handed to the Sink
	// before it is told. It runs on Run's goroutine and must not block.
	OnState func(server string, connected bool, at time.Time)
}

// Client reads one OPC UA server. Create it with New and start it with Run.
type Client struct {
	srv    config.Server
	nodes  []node
	groups []group
	opts   Options
	log    *slog.Logger
	stats  statsRecorder

	// Owned by Run's goroutine.
	outage       outage
	weakWarned   bool            // the weaker-than-offered security warning was logged
	offerChecked bool            // a security None session listed the server's endpoints
	security     string          // policy/mode of the current session, for logs
	itemStatus   []ua.StatusCode // last logged create result per node
	// Owned by the running session's drain goroutine (sessions never overlap).
	valueStatus []ua.StatusCode // last logged conversion failure per node
	dataStatus  []ua.StatusCode // last logged item failure seen in data per node
}

// group is the nodes (indices) of one publishing interval: one subscription.
type group struct {
	interval time.Duration
	nodes    []int
}

// New checks the configuration and parses every node id. It does no I/O.
// nodes are the server's nodes with defaults applied (config.Config.Nodes).
func New(srv config.Server, nodes []config.NodeRef, opts Options) (*Client, error) {
	if opts.Sink == nil {
		return nil, errors.New("opcua: Options.Sink is required")
	}
	if err := checkSecurity(srv); err != nil {
		return nil, fmt.Errorf("server %s: %w", srv.Name, err)
	}
	c := &Client{srv: srv, opts: withDefaults(opts)}
	c.log = c.opts.Logger.With("server", srv.Name)
	for _, ref := range nodes {
		n, err := parseNode(ref)
		if err != nil {
			return nil, fmt.Errorf("server %s: %w", srv.Name, err)
		}
		c.nodes = append(c.nodes, n)
	}
	c.groups = groupByInterval(nodes)
	c.itemStatus = make([]ua.StatusCode, len(nodes))
	c.valueStatus = make([]ua.StatusCode, len(nodes))
	c.dataStatus = make([]ua.StatusCode, len(nodes))
	return c, nil
}

func withDefaults(o Options) Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.KeepAlive, DefaultKeepAlive)
	def(&o.WatchdogFloor, DefaultWatchdogFloor)
	def(&o.BackoffMin, DefaultBackoffMin)
	def(&o.BackoffMax, max(DefaultBackoffMax, o.BackoffMin))
	def(&o.FlushTimeout, DefaultFlushTimeout)
	if o.MaxArrayLen <= 0 {
		o.MaxArrayLen = DefaultMaxArrayLen
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// groupByInterval returns one group per distinct publishing interval, in
// increasing order of interval, nodes in configuration order.
func groupByInterval(nodes []config.NodeRef) []group {
	idx := map[time.Duration]int{}
	var groups []group
	for i, n := range nodes {
		d := n.Node.PublishingInterval.D()
		if _, ok := idx[d]; !ok {
			idx[d] = len(groups)
			groups = append(groups, group{interval: d})
		}
		groups[idx[d]].nodes = append(groups[idx[d]].nodes, i)
	}
	slices.SortFunc(groups, func(a, b group) int { return cmp.Compare(a.interval, b.interval) })
	return groups
}

// Stats returns a snapshot of the client's counters. Safe for concurrent use.
func (c *Client) Stats() Stats { return c.stats.get() }

// Run connects, subscribes and delivers readings to the sink, rebuilding the
// session after any failure, until ctx ends; it then returns nil. It returns
// early only when the sink fails with an error other than the end of ctx.
// Every goroutine Run starts has ended when it returns.
func (c *Client) Run(ctx context.Context) error {
	deliver, stop := flushContext(ctx, c.opts.FlushTimeout)
	defer stop()
	b := backoff{min: c.opts.BackoffMin, max: c.opts.BackoffMax}
	for {
		began := time.Now()
		err := c.runSession(ctx, deliver)
		if fatal := (*fatalError)(nil); errors.As(err, &fatal) {
			return fatal.err
		}
		if ctx.Err() != nil {
			return nil
		}
		c.failed(err)
		if time.Since(began) >= b.max {
			b.reset() // a session that lived long ends an outage, not a flapping one
		}
		if !sleep(ctx, b.next()) {
			return nil
		}
	}
}

// fatalError is a failure that ends Run instead of a reconnect.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }

// flushContext returns a context for Sink.Append that outlives ctx by at most
// d, so readings already received (and acknowledged to the server by gopcua)
// can still be committed during shutdown.
func flushContext(ctx context.Context, d time.Duration) (context.Context, func()) {
	deliver, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				cancel()
			case <-done:
			}
		case <-done:
		}
	})
	return deliver, func() {
		close(done)
		wg.Wait()
		cancel()
	}
}

func (c *Client) now() time.Time { return c.opts.Now() }

func (c *Client) requestTimeout() time.Duration {
	if d := c.srv.RequestTimeout.D(); d > 0 {
		return d
	}
	return config.DefaultRequestTimeout
}
