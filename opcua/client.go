// Package opcua is the bridge's OPC UA source. A Client holds one gopcua
// session per server, subscribes to the configured nodes (one subscription per
// publishing interval), turns every data change into a typed
// factorybridge.Reading and hands it to a factorybridge.Sink. Nodes may
// instead be read cyclically, repeat their last value as heartbeats, skip
// their first value, and have their data gaps filled from the server's
// history; stations may subscribe to OPC UA events (acquire.go and the
// files it names; docs/acquisition.md).
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
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gopcua/opcua/ua"
)

// Client reads one OPC UA server. Create it with New and start it with Run.
type Client struct {
	nodes  []node
	groups []group
	opts   Options
	log    *slog.Logger
	stats  statsRecorder
	clock  clockState // the server's clock (clock.go)

	// Acquisition modes (acquire.go and the files it names).
	reads        []readGroup   // nodes in ModeRead, by read interval
	events       []eventSource // event sources, parsed
	eventGroups  []group       // event sources (indices into events) by publishing interval
	backfill     BackfillOptions
	minHeartbeat time.Duration
	allPlain     bool // no node uses an acquisition rule: admit passes batches through
	// state is per node; owned by the running session's drain goroutine.
	state []nodeState
	// Owned by Run's goroutine: event items' last logged results, the
	// sources whose missing fields were logged, ConditionRefresh's failure.
	eventStatus   []ua.StatusCode
	fieldsLogged  []bool
	refreshWarned bool
	// noHistoryLogged is per node; owned by the drain (backfill.go).
	noHistoryLogged []bool

	// Owned by Run's goroutine.
	outage       outage
	weakWarned   bool            // the weaker-than-offered security warning was logged
	offerChecked bool            // a security None session listed the server's endpoints
	security     string          // policy/mode of the current session, for logs
	itemStatus   []ua.StatusCode // last logged create result per node
	// Owned by the running session's drain goroutine (sessions never overlap).
	valueStatus []ua.StatusCode // last logged conversion failure per node
	dataStatus  []ua.StatusCode // last logged item failure seen in data per node

	// Live updates (update.go). pending is the latest table Update made,
	// not applied yet; updated signals it to Run's goroutine.
	pendingMu sync.Mutex
	pending   *Client
	updated   chan struct{}
	// byHandle maps client handles to node indices once a live update made
	// them differ; nil while every node's handle is its index. nextHandle
	// is the next handle a live update gives out; evGen the generation of
	// the event sources' handles. Owned by the drain while a session runs,
	// by Run's goroutine between sessions.
	byHandle   map[uint32]int
	nextHandle uint32
	evGen      uint32
	watched    int // nodes whose values a live update checks for repeats
}

// group is the nodes (indices) of one publishing interval: one subscription.
type group struct {
	interval time.Duration
	nodes    []int
}

// New checks the options and parses every node id. It does no I/O.
func New(opts Options) (*Client, error) {
	if opts.Sink == nil {
		return nil, errors.New("opcua: Options.Sink is required")
	}
	if err := checkSecurity(&opts); err != nil {
		return nil, fmt.Errorf("server %s: %w", opts.Name, err)
	}
	if err := opts.Clock.check(); err != nil {
		return nil, fmt.Errorf("server %s: %w", opts.Name, err)
	}
	c := &Client{opts: withDefaults(opts), updated: make(chan struct{}, 1)}
	c.log = c.opts.Logger.With("server", opts.Name)
	if err := c.load(opts.Nodes, opts.Events); err != nil {
		return nil, fmt.Errorf("server %s: %w", opts.Name, err)
	}
	return c, nil
}

// load parses nodes and event sources into the client's tables; each
// node's client handle is its index. New uses it, and Update on a copy.
func (c *Client) load(nodes []Node, events []EventSource) error {
	if len(nodes) >= eventHandleBase || len(events) > maxEventSources {
		return fmt.Errorf("%d nodes and %d event sources: at most %d and %d", len(nodes), len(events),
			eventHandleBase-1, maxEventSources)
	}
	// c.nodes keeps the nodes, with their defaults; opts does not keep a
	// second copy (216 bytes a node, 6.5 MB at 30,000 nodes).
	c.opts.Nodes, c.opts.Events = nil, events
	c.nodes = make([]node, 0, len(nodes))
	for i, spec := range nodes {
		n, err := parseNode(spec)
		if err != nil {
			return err
		}
		n.handle = uint32(i)
		c.nodes = append(c.nodes, n)
	}
	c.groups = groupByInterval(c.nodes)
	if err := c.initAcquisition(); err != nil {
		return err
	}
	c.itemStatus = make([]ua.StatusCode, len(c.nodes))
	c.valueStatus = make([]ua.StatusCode, len(c.nodes))
	c.dataStatus = make([]ua.StatusCode, len(c.nodes))
	return nil
}

// groupByInterval returns one group per distinct publishing interval, in
// increasing order of interval, nodes in configuration order.
func groupByInterval(nodes []node) []group {
	idx := map[time.Duration]int{}
	var groups []group
	for i, n := range nodes {
		if n.spec.Mode == ModeRead {
			continue // read cyclically (readmode.go)
		}
		d := n.spec.PublishingInterval
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
	c.loadMarks()
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
