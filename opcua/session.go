package opcua

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

const (
	// notifyQueue bounds the publish results waiting for the drain goroutine;
	// each holds at most maxNotificationsPerPublish values per subscription,
	// about 1.8 MB decoded. Four cover a drain that pauses for a commit; the
	// server's queues (queue_size samples per node) cover longer pauses.
	notifyQueue = 4
	// maxCloseTime bounds the polite CloseSession of a failed session: a
	// silent server must not delay the rebuild by a whole request timeout.
	maxCloseTime = 2 * time.Second
	// connectTimeouts is how many request timeouts a whole connect (TCP,
	// HEL/ACK, secure channel, session, namespaces) may take.
	connectTimeouts = 2
)

// errWatchdog marks a session rebuilt because it went silent.
var errWatchdog = errors.New("watchdog")

// session is one gopcua client from connect to close. Its goroutines (the
// drain and at most one probe) end before runSession returns.
type session struct {
	c        *Client
	ua       *opcua.Client
	flushCtx context.Context // Run's flush context, for Sink.Append
	notify   chan *opcua.PublishNotificationData
	stateSig chan struct{} // gopcua's connection state changed
	fail     chan error    // the first failure seen by the drain
	wg       sync.WaitGroup
	closing  sync.Once

	silent    bool         // the server stopped answering: skip CloseSession
	start     time.Time    // monotonic base of lastAlive
	lastAlive atomic.Int64 // ns since start of the last data or successful probe
	watchdog  time.Duration

	acquisition // heartbeats, cyclic reads, backfill (acquire.go, backfill.go)

	// Owned by Run's goroutine: the data subscriptions by publishing
	// interval, the event subscriptions, each node's monitored item id (0:
	// none), the cyclic readers, and whether every gap is known (a live
	// update waits for it). update.go changes them on a live update.
	subs      map[time.Duration]*opcua.Subscription
	eventSubs []*opcua.Subscription
	itemIDs   []uint32
	readers   readers
	gapsKnown bool
	ctl       chan func() // Run → drain: run this on the drain's goroutine

	// Owned by the drain: the nodes the last update moved to another
	// subscription, and that update's number (update.go).
	moves   []move
	moveGen int

	// Owned by the drain goroutine.
	gapStart   time.Time   // last data before this session; zero once the gap is closed
	dropped    int         // readings not delivered because the sink gave up
	itemFailed []bool      // per node: its values say it cannot be read
	scratch    scratch     // deliver's reused memory (readings.go)
	sinkErr    error       // the sink failed: Run must end
	overflow   overflowLog // values the server flagged as after a queue overflow (overflow.go)
}

func newSession(c *Client) *session {
	s := &session{
		c:          c,
		notify:     make(chan *opcua.PublishNotificationData, notifyQueue),
		stateSig:   make(chan struct{}, 1),
		fail:       make(chan error, 1),
		start:      time.Now(),
		gapStart:   c.stats.get().LastData,
		itemFailed: make([]bool, len(c.nodes)),
		subs:       map[time.Duration]*opcua.Subscription{},
		itemIDs:    make([]uint32, len(c.nodes)),
		ctl:        make(chan func()),
	}
	s.acquisition.init(c)
	return s
}

// runSession runs one session until it fails or ctx ends. It closes the
// gopcua client and joins its goroutines before returning, so the next
// session never overlaps with this one.
func (c *Client) runSession(ctx, deliver context.Context) error {
	c.applyPending()
	c.connecting()
	c.stats.update(func(st *Stats) { st.ItemsOK, st.ItemsFailed = 0, 0 })
	s := newSession(c)
	s.flushCtx = deliver
	defer s.closeClient(ctx)
	if err := s.connect(ctx); err != nil {
		return err
	}
	stop := make(chan struct{})
	s.wg.Go(func() { s.drain(deliver, stop) })
	err := s.serve(ctx)
	s.silent = errors.Is(err, errWatchdog)
	s.closeClient(ctx) // stops gopcua's publish loop: nothing new reaches notify
	close(stop)
	s.wg.Wait()
	if s.sinkErr != nil {
		return s.sinkErr // even when the session had failed first
	}
	return err
}

// connect builds a gopcua client for this session and connects it. It
// gives up after connectTimeouts request timeouts: gopcua bounds each request
// but not the HEL/ACK handshake, which honours only a context deadline and
// otherwise waits for ever on a server that accepts TCP and never answers.
func (s *session) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeouts*s.c.opts.RequestTimeout)
	defer cancel()
	opts, err := s.clientOptions(ctx)
	if err != nil {
		return err
	}
	s.ua, err = opcua.NewClient(s.c.opts.Endpoint, opts...)
	if err != nil {
		return fmt.Errorf("configure client: %w", err)
	}
	if err := s.ua.Connect(ctx); err != nil {
		return fmt.Errorf("connect %s: %w", s.c.opts.Endpoint, err)
	}
	s.checkOffer(ctx)
	s.measureClock(ctx) // before the first data: its readings are placed by it
	return nil
}

// serve subscribes, then supervises the session until it fails.
func (s *session) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer s.readers.stop()
	defer cancel() // ends a probe and the readers
	s.readers.parent = ctx
	s.wg.Go(func() { s.watchClock(ctx) })
	res, err := s.subscribe(ctx)
	if err != nil {
		return err
	}
	s.watchdog = s.watchdogLimit(res.keepAlive)
	s.alive()
	s.startAcquisition(ctx, &res)
	s.upAt = s.c.established(res.ok, res.failed, !s.hasGaps)
	s.gapsKnown = !s.hasGaps
	if err := s.deliverUnresolved(res.unresolved); err != nil {
		return err
	}
	return s.supervise(ctx)
}

// watchdogLimit is how long the session may stay silent: a multiple of the
// longest revised keep-alive period, and never below the floor.
func (s *session) watchdogLimit(keepAlive time.Duration) time.Duration {
	if keepAlive <= 0 {
		keepAlive = s.c.opts.KeepAlive
	}
	return max(WatchdogMultiplier*keepAlive, s.c.opts.WatchdogFloor)
}

// supervise waits for the first sign of failure: a gopcua state other than
// Connected, a failure reported by the drain, or the watchdog.
func (s *session) supervise(ctx context.Context) error {
	probeAfter := s.probeAfter()
	tick := time.NewTicker(max(probeAfter/2, 10*time.Millisecond))
	defer tick.Stop()
	probeDone := make(chan error, 1)
	probing := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.fail:
			return err
		case filled := <-s.settled:
			s.c.gapsKnown(filled, s.upAt)
			s.gapsKnown = true
			s.c.signalUpdate() // an update that waited for the gaps
		case <-s.c.updated:
			if err := s.update(ctx); err != nil {
				return err
			}
			probeAfter = s.probeAfter() // the shortest heartbeat may have changed
		case <-s.stateSig:
			if st := s.ua.State(); st != opcua.Connected {
				return fmt.Errorf("connection lost (gopcua state %s)", st)
			}
		case err := <-probeDone:
			probing = false
			s.probed(err)
		case <-tick.C:
			idle := s.idle()
			if idle > s.watchdog {
				return fmt.Errorf("%w: no data and no successful liveness probe for %s (limit %s)",
					errWatchdog, idle.Round(time.Millisecond), s.watchdog)
			}
			if !probing && idle >= probeAfter {
				probing = true
				s.wg.Go(func() { probeDone <- s.probe(ctx) })
			}
		}
	}
}

// probe reads the server's CurrentTime: the cheapest proof that the server
// still answers on this session, since gopcua hides keep-alives.
func (s *session) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.c.opts.RequestTimeout)
	defer cancel()
	_, err := s.ua.Read(ctx, &ua.ReadRequest{
		NodesToRead: []*ua.ReadValueID{{NodeID: ua.NewNumericNodeID(0, id.Server_ServerStatus_CurrentTime)}},
	})
	return err
}

func (s *session) probed(err error) {
	if err != nil {
		s.c.log.Debug("liveness probe failed", "err", err)
		return
	}
	s.alive()
	now := s.c.now()
	s.c.stats.update(func(st *Stats) { st.LastKeepAlive = now })
}

func (s *session) alive() { s.lastAlive.Store(int64(time.Since(s.start))) }

func (s *session) idle() time.Duration {
	return time.Since(s.start) - time.Duration(s.lastAlive.Load())
}

// report passes the drain's first failure to supervise; later ones are
// consequences of the first and are dropped.
func (s *session) report(err error) {
	select {
	case s.fail <- err:
	default:
	}
}

// onState is gopcua's state callback. It runs on gopcua's goroutines and must
// not block.
func (s *session) onState(opcua.ConnState) {
	select {
	case s.stateSig <- struct{}{}:
	default:
	}
}

// closeClient closes the gopcua client (session, secure channel, TCP
// connection, its publish loop) once; later calls do nothing.
func (s *session) closeClient(ctx context.Context) {
	s.closing.Do(func() {
		if s.ua == nil {
			return
		}
		d := min(s.c.opts.RequestTimeout, maxCloseTime)
		if s.silent {
			d = 0 // CloseSession would only wait for its timeout
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
		defer cancel()
		s.ua.Close(ctx)
	})
}
