package opcua

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gopcua/opcua/ua"

	"factorybridge"
)

// Acquisition modes and read reports of a node (Node.Mode, Node.ReadReport).
const (
	ModeSubscribe = "subscribe"
	ModeRead      = "read"
	ReportCycle   = "cycle"
	ReportChange  = "change"
)

// DefaultReadInterval is the cycle of a node in ModeRead that names none.
const DefaultReadInterval = time.Second

// acquisitionDefaults fills the zero acquisition settings of a node.
func (n Node) acquisitionDefaults() Node {
	if n.Mode == "" {
		n.Mode = ModeSubscribe
	}
	if n.Mode == ModeRead && n.ReadInterval <= 0 {
		n.ReadInterval = DefaultReadInterval
	}
	if n.Mode == ModeRead && n.ReadReport == "" {
		n.ReadReport = ReportCycle
	}
	return n
}

// checkAcquisition rejects acquisition settings that do not go together; n
// has its defaults.
func checkAcquisition(n Node) error {
	switch {
	case n.Mode != ModeSubscribe && n.Mode != ModeRead:
		return errors.New(`mode must be "subscribe" or "read"`)
	case n.Mode == ModeRead && n.ReadReport != ReportCycle && n.ReadReport != ReportChange:
		return errors.New(`read_report must be "cycle" or "change"`)
	case n.Mode == ModeRead && n.ReadReport == ReportChange && n.Deadband == "percent":
		return errors.New("a percent deadband needs the server's EURange and works with subscriptions only")
	case n.SkipFirst && n.Backfill:
		return errors.New("skip_first and backfill exclude each other: after a gap a backfilled node's first value is data")
	case n.Heartbeat < 0:
		return errors.New("heartbeat interval must not be negative")
	}
	return nil
}

// nodeState is what the client remembers of a node across sessions. It is
// owned by the drain goroutine of the running session (sessions never
// overlap, and Run joins each before the next starts).
type nodeState struct {
	// plain: no heartbeat, skip-first, backfill or change report: values
	// go through untouched and nothing is remembered (the hot path).
	plain bool

	// last is the last value delivered (live or backfilled), nil for none;
	// behind a pointer so that plain nodes, which never set it, do not
	// carry a Reading's 232 bytes each.
	last    *factorybridge.Reading
	mark    time.Time // the newest source time delivered: where a gap begins
	hasMark bool

	// Per session: reset by beginSession.
	first    bool      // the next value is the first of the session
	fresh    bool      // a value arrived in this session: heartbeats may repeat it
	sentAt   time.Time // monotonic: when the node last sent something
	backfill *gapFill  // the gap being filled (backfill.go); nil when none

	// seen is the source time (Unix ns) of the node's last value received,
	// 0 for none; kept for every node, plain or not, so that a live update
	// can tell a value the server sends again (update.go). Set by a live
	// update: the node's item was re-created or modified, and its next
	// value is dropped if it is the one seen last; the node's item moved,
	// and window holds the new item's values until the old one has
	// reported the same value, then delivers each value once, in order
	// (update_window.go).
	seen      int64
	recreated bool
	window    *dupWindow
}

// remember keeps r as the node's last value.
func (st *nodeState) remember(r *factorybridge.Reading) {
	if st.last == nil {
		st.last = new(factorybridge.Reading)
	}
	*st.last = *r
}

// basePlain reports whether a node's values go through untouched (see
// nodeState.plain).
func basePlain(n *Node) bool {
	return n.Heartbeat <= 0 && !n.SkipFirst && !n.Backfill && !(n.Mode == ModeRead && n.ReadReport == ReportChange)
}

// beginSession resets the per-session state of every node.
func (c *Client) beginSession() {
	for i := range c.state {
		st := &c.state[i]
		st.first, st.fresh, st.sentAt, st.backfill = true, false, time.Time{}, nil
	}
}

// admit applies the per-node rules to a batch of new values of the nodes
// handles names, in order, and returns what is to be delivered now, in the
// session's scratch slice when it is not batch itself. Values
// of a node whose gap is being filled are held (backfill.go) and delivered
// after the backfilled ones.
//
// Skip first: the first value of a node after the bridge started is
// dropped. After a reconnect (a new session, the server restarted or not)
// the first value is delivered unless it repeats the last one delivered
// (same value, status and source timestamp): a change made during the
// outage is data, a repeat is not. A bridge restart starts afresh: the
// first value is dropped again.
func (s *session) admit(batch []factorybridge.Reading, handles []int) []factorybridge.Reading {
	if s.c.allPlain {
		return batch
	}
	out := s.scratch.admitted[:0]
	for k := range batch {
		out = s.admitOne(handles[k], batch[k], out)
	}
	s.scratch.admitted = out
	return out
}

// admitOne decides about one value of node i, records what is delivered
// and appends it to out.
func (s *session) admitOne(i int, r factorybridge.Reading, out []factorybridge.Reading) []factorybridge.Reading {
	c := s.c
	st, spec := &c.state[i], &c.nodes[i].spec
	if st.plain {
		return append(out, r)
	}
	first := st.first
	st.first = false
	switch {
	case st.backfill != nil:
		if st.backfill.hold(r, c.backfill.MaxHeld) {
			return append(out, s.release(st.backfill, nil)...)
		}
		return out
	case first && spec.Backfill:
		if s.seam(i, &r) {
			return append(out, r)
		}
		return out
	case first && spec.SkipFirst && st.last == nil:
		st.remember(&r) // skipped, but the next value is compared with it
		return out
	case first && spec.SkipFirst && sameValue(st.last, &r):
		return out
	case spec.Mode == ModeRead && spec.ReadReport == ReportChange && st.last != nil && !changed(spec, st.last, &r):
		return out
	}
	c.delivered(i, &r)
	return append(out, r)
}

// delivered records a value handed to the sink.
func (c *Client) delivered(i int, r *factorybridge.Reading) {
	st := &c.state[i]
	st.remember(r)
	st.fresh, st.sentAt = true, time.Now()
	if !r.SourceTime.IsZero() && (!st.hasMark || r.SourceTime.After(st.mark)) {
		st.mark, st.hasMark = r.SourceTime, true
	}
}

// sameValue reports whether b repeats a: the same value, status and source
// timestamp.
func sameValue(a, b *factorybridge.Reading) bool {
	return a.Status == b.Status && a.SourceTime.Equal(b.SourceTime) && equalValues(&a.Value, &b.Value)
}

// equalValues compares two values exactly (arrays element by element).
func equalValues(a, b *factorybridge.Value) bool {
	if a.Type != b.Type || a.Array != b.Array || a.Bits != b.Bits || a.Str != b.Str || len(a.Elems) != len(b.Elems) {
		return false
	}
	for k := range a.Elems {
		if !equalValues(&a.Elems[k], &b.Elems[k]) {
			return false
		}
	}
	return true
}

// initAcquisition checks and prepares the acquisition modes of New's nodes
// and event sources.
func (c *Client) initAcquisition() error {
	for i := range c.nodes {
		if err := checkAcquisition(c.nodes[i].spec); err != nil {
			return fmt.Errorf("node %s: %w", c.nodes[i].spec.Name, err)
		}
	}
	c.state = make([]nodeState, len(c.nodes))
	c.allPlain = true
	for i := range c.nodes {
		c.state[i].plain = basePlain(&c.nodes[i].spec)
		c.allPlain = c.allPlain && c.state[i].plain
	}
	c.reads = groupReads(c.nodes)
	c.minHeartbeat = minHeartbeat(c.nodes)
	c.backfill = c.opts.Backfill.withDefaults()
	return c.initEvents()
}

// startAcquisition starts what a session runs beside its subscriptions:
// the backfiller, the cyclic readers and a ConditionRefresh. Its goroutines
// end with ctx (serve's).
func (s *session) startAcquisition(ctx context.Context, res *subscribed) {
	namespaces := s.ua.Namespaces()
	if s.hasGaps {
		historized := s.historized(ctx, namespaces)
		s.wg.Go(func() { s.backfiller(ctx, namespaces, historized) })
	}
	ok, failed := s.startReads(ctx, namespaces)
	res.ok += ok
	res.failed += failed
	s.conditionRefresh(ctx, res.eventSubs)
	if s.hasGaps {
		s.noValues <- s.c.failedBackfillNodes() // cap 1, sent once
	}
}

// failedBackfillNodes returns the backfill nodes whose item creation (or
// namespace) failed in the session being set up; their last logged result
// is the session's, as every item's result is logged when it changes.
func (c *Client) failedBackfillNodes() []int {
	var out []int
	for i := range c.nodes {
		if c.nodes[i].spec.Backfill && c.itemStatus[i] != ua.StatusOK {
			out = append(out, i)
		}
	}
	return out
}
