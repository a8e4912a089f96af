package opcua

import (
	"context"
	"errors"
	"sync"
	"time"

	"factorybridge"
)

// History backfill. A node with Node.Backfill remembers the newest source
// time it delivered (its watermark; kept durably by Options.Watermarks). In
// every session, its first live value v1 closes a gap (mark, v1's source
// time). When v1 is newer than the mark, the node's live values are held,
// the gap is read from the server's history (HistoryRead raw, continuation
// points followed), the values strictly inside it are delivered as
// ClassBackfill readings in source-time order, and then the held live
// values. When v1 is not newer, it repeats what was delivered and is
// dropped. So every historized value of the gap is delivered once, in order
// per node, with nothing doubled at either seam. The history is read by a
// goroutine of the session, so the drain keeps serving the other nodes.

// Defaults of BackfillOptions.
const (
	DefaultBackfillMaxValues = 100_000
	DefaultBackfillMaxAge    = 24 * time.Hour
	DefaultBackfillTimeout   = time.Minute
	DefaultBackfillMaxHeld   = 100_000
	// backfillPage is the values per node a HistoryRead response is asked
	// for; the server may return fewer and continue.
	backfillPage = 1000
)

// BackfillOptions bound the filling of gaps. Zero values are the defaults.
type BackfillOptions struct {
	// MaxValues bounds the values read per node and gap; the rest of a
	// longer gap stays a gap. Zero means DefaultBackfillMaxValues.
	MaxValues int
	// MaxAge bounds how far back a gap is filled: the part older than
	// MaxAge stays a gap. Zero means DefaultBackfillMaxAge.
	MaxAge time.Duration
	// Timeout bounds, from the start of a session, how long its gaps may
	// take: the live values of a node wait at most this long; a gap not
	// filled by then stays a gap. Zero means DefaultBackfillTimeout.
	Timeout time.Duration
	// MaxHeld bounds the live values of one node held while its gap is
	// read; beyond it the gap is given up. Zero means
	// DefaultBackfillMaxHeld.
	MaxHeld int
}

func (o BackfillOptions) withDefaults() BackfillOptions {
	if o.MaxValues <= 0 {
		o.MaxValues = DefaultBackfillMaxValues
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultBackfillMaxAge
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultBackfillTimeout
	}
	if o.MaxHeld <= 0 {
		o.MaxHeld = DefaultBackfillMaxHeld
	}
	return o
}

// gapFill is the gap of one node being filled: values with a source time in
// (from, to), and the live values held meanwhile, the first of the session
// first.
type gapFill struct {
	node     int
	from, to time.Time
	held     []factorybridge.Reading
}

// gapResult is what the history said about one gap.
type gapResult struct {
	gap      *gapFill
	values   []factorybridge.Reading // in source-time order, inside the gap
	complete bool                    // every value of the gap is in values
	err      error
}

// loadMarks takes the watermarks of the backfill nodes from the durable
// store, once, before the first session; a node that delivered values in
// this run keeps its own.
func (c *Client) loadMarks() {
	wm := c.opts.Watermarks
	if wm == nil {
		return
	}
	for i := range c.nodes {
		spec, st := &c.nodes[i].spec, &c.state[i]
		if !spec.Backfill {
			continue
		}
		wm.Track(spec.Name)
		if t, ok := wm.Watermark(spec.Name); ok && !st.hasMark {
			st.mark, st.hasMark = t, true
		}
	}
}

// seam handles the first value of a backfill node in a session: deliver it
// (no gap known), drop it (it repeats the last value delivered), or start
// filling the gap before it and hold it.
func (s *session) seam(i int, r *factorybridge.Reading) bool {
	st := &s.c.state[i]
	switch {
	case !st.hasMark || r.SourceTime.IsZero():
		s.settle(i, false)
		if st.last != nil && sameValue(st.last, r) {
			return false
		}
	case !r.SourceTime.After(st.mark):
		s.settle(i, true)
		return false
	default:
		g := &gapFill{node: i, from: st.mark, to: r.SourceTime, held: []factorybridge.Reading{*r}}
		st.backfill = g
		s.gaps <- g // cap len(nodes): never blocks
		return false
	}
	s.c.delivered(i, r)
	return true
}

// hold keeps a live value of a node whose gap is being filled. Beyond
// MaxHeld the gap is given up: it reports true, and the caller releases the
// held values.
func (g *gapFill) hold(r factorybridge.Reading, max int) bool {
	g.held = append(g.held, r)
	return len(g.held) > max
}

// release delivers the held live values of node i's gap after the values
// read from history (nil when the gap was given up), records the node as
// settled, and returns the batch for the sink.
func (s *session) release(g *gapFill, res *gapResult) []factorybridge.Reading {
	st := &s.c.state[g.node]
	st.backfill = nil
	var batch []factorybridge.Reading
	if res != nil {
		batch = append(batch, res.values...)
	}
	batch = append(batch, g.held...)
	for k := range batch {
		s.c.delivered(g.node, &batch[k])
	}
	s.settle(g.node, res != nil && res.complete && res.err == nil)
	s.logGap(g, res)
	return batch
}

// logGap logs what became of a gap.
func (s *session) logGap(g *gapFill, res *gapResult) {
	n := &s.c.nodes[g.node].spec
	switch {
	case res == nil:
		s.c.log.Warn("backfill given up: the gap stays", "node", n.Name, "gap_start", g.from, "gap_end", g.to,
			"reason", "timeout or too many live values held")
	case errors.Is(res.err, errNoHistory):
		s.c.noHistory(g.node)
	case res.err != nil:
		s.c.log.Warn("backfill failed: the gap stays", "node", n.Name, "gap_start", g.from, "gap_end", g.to, "err", res.err)
	case !res.complete:
		s.c.log.Warn("backfill bounded: part of the gap stays", "node", n.Name, "gap_start", g.from,
			"gap_end", g.to, "values", len(res.values))
	default:
		s.c.log.Info("backfill done", "node", n.Name, "gap_start", g.from, "gap_end", g.to, "values", len(res.values))
	}
}

// settle records that node i's gap of this session is known (filled) or
// not; once every backfill node has settled, supervise is told.
func (s *session) settle(i int, filled bool) {
	if !s.unsettled[i] {
		return
	}
	s.unsettled[i] = false
	s.pendingGaps--
	if filled {
		s.filled = append(s.filled, s.c.nodes[i].spec.Name)
	}
	if s.pendingGaps == 0 {
		s.settled <- s.filled // cap 1, sent once
	}
}

// settleAll gives up every gap of the session not known by now (the
// backfill timeout) and returns the held values to deliver.
func (s *session) settleAll() []factorybridge.Reading {
	var batch []factorybridge.Reading
	for i := range s.unsettled {
		if !s.unsettled[i] {
			continue
		}
		if g := s.c.state[i].backfill; g != nil {
			batch = append(batch, s.release(g, nil)...)
			continue
		}
		s.settle(i, false)
	}
	return batch
}

// dropHeld forgets, when the session ends, the live values held for gaps
// still being read. Delivering them would move the nodes' watermarks past
// their gaps for good; as they are, the next session fills the gap and
// reads them again from the server's history, where they are.
func (s *session) dropHeld() {
	n := 0
	for i := range s.c.state {
		if g := s.c.state[i].backfill; g != nil {
			n += len(g.held)
			s.c.state[i].backfill = nil
		}
	}
	if n > 0 {
		s.c.log.Info("session ended while gaps were being filled: their live values are left to the next fill from history",
			"values", n)
	}
}

// failedItems settles the backfill nodes whose items the server rejected:
// no value will come to close their gap.
func (s *session) failedItems(nodes []int) {
	for _, i := range nodes {
		s.settle(i, false)
	}
}

// errNoHistory marks a gap of a node the server keeps no history of.
var errNoHistory = errors.New("the server keeps no history of the node")

// backfiller reads the gaps the drain sends, one at a time, until ctx ends.
// It sends HistoryRead only for nodes historized says have history: gopcua
// takes any request answered with a bad service result (a server without
// history answers BadNotSupported) for a lost connection.
func (s *session) backfiller(ctx context.Context, namespaces []string, historized []bool) {
	for {
		select {
		case <-ctx.Done():
			return
		case g := <-s.gaps:
			res := &gapResult{gap: g, err: errNoHistory}
			if historized[g.node] {
				res = s.fill(ctx, g, namespaces)
			}
			select {
			case s.filledGaps <- res:
			case <-ctx.Done():
				return
			}
		}
	}
}

// acquisition is a session's state of heartbeats, cyclic reads, events and
// backfill; session embeds it.
type acquisition struct {
	gaps       chan *gapFill   // drain → backfiller: the gaps to read
	filledGaps chan *gapResult // backfiller → drain
	settled    chan []string   // drain → supervise, once: every gap is known; the nodes filled
	noValues   chan []int      // serve → drain, once: backfill nodes that failed and send nothing
	hasGaps    bool            // the session has backfill nodes (immutable)
	upAt       time.Time       // when the session came up (serve, before supervise)

	// Owned by the drain goroutine.
	unsettled   []bool // per node: a backfill node whose gap is not known yet
	pendingGaps int
	filled      []string

	// evOn says, per event source, which of its fields its item selects:
	// written while subscribing, read by the drain.
	evMu sync.Mutex
	evOn [][]bool
}

// init starts a session's acquisition state; the previous session's drain
// has ended, so the nodes' per-session state is reset here.
func (a *acquisition) init(c *Client) {
	c.beginSession()
	a.gaps = make(chan *gapFill, len(c.nodes)) // a node has at most one gap per session
	a.filledGaps = make(chan *gapResult)
	a.settled = make(chan []string, 1)
	a.noValues = make(chan []int, 1)
	a.unsettled = make([]bool, len(c.nodes))
	for i := range c.nodes {
		if c.nodes[i].spec.Backfill {
			a.unsettled[i] = true
			a.pendingGaps++
		}
	}
	a.hasGaps = a.pendingGaps > 0
}

// backfillDeadline is the drain's timer for the session's gaps; it never
// fires when there are none.
func (s *session) backfillDeadline() *time.Timer {
	t := time.NewTimer(s.c.backfill.Timeout)
	if !s.hasGaps {
		t.Stop()
	}
	return t
}

// gapRead delivers a gap read from history and the live values held for
// it, unless the gap was given up meanwhile.
func (s *session) gapRead(ctx context.Context, res *gapResult) {
	if s.c.state[res.gap.node].backfill != res.gap {
		return
	}
	s.c.stats.update(func(st *Stats) { st.Backfilled += uint64(len(res.values)) })
	s.appendBatch(ctx, s.release(res.gap, res))
}

// gapsKnown tells OnGapFilled, then OnState that the session's data flows
// (deferred until the gaps were known, so that the OEE runner places the
// session's start after the backfilled readings).
func (c *Client) gapsKnown(filled []string, upAt time.Time) {
	if c.opts.OnGapFilled != nil && len(filled) > 0 {
		c.opts.OnGapFilled(c.opts.Name, filled)
	}
	c.tellState(true, upAt)
}
