package opcua

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gopcua/opcua/ua"

	"factorybridge"
)

// deliverChunk is the most readings deliver converts and appends to the
// sink at once: a publish response carries up to maxNotificationsPerPublish
// (10,000) values of a subscription, a batch of them all was 2.3 MB
// allocated anew each time, and a notification a live update's window
// hands on may hold more. A chunk of the buffer's commit size (buffer.DefaultCommitMaxReadings)
// lives in a slice the session reuses and lets the buffer's backpressure
// (its PendingLimit) act within a notification.
const deliverChunk = 4096

// scratch is the drain's reused memory for the readings of one
// notification.
type scratch struct {
	items    []*ua.MonitoredItemNotification // kept: the values of our nodes
	nodes    []int                           // the node of each kept item
	batch    []factorybridge.Reading         // one chunk's readings
	admitted []factorybridge.Reading         // what admit passes of a chunk
}

// received picks the items of one DataChangeNotification that are values
// for the sink and returns them with the node (client handle) of each: an
// item with a client handle that is not ours, or a value a live update's
// item sends again (repeated), is skipped. It sees the whole notification
// before any of it is delivered, as the dedup windows need. Both slices
// are the session's, valid until the next call; done drops the items.
func (s *session) received(items []*ua.MonitoredItemNotification) ([]*ua.MonitoredItemNotification, []int) {
	c := s.c
	kept, nodes := s.scratch.items[:0], s.scratch.nodes[:0]
	for _, it := range items {
		if it == nil || it.Value == nil {
			continue
		}
		i, ok := c.index(it.ClientHandle)
		if !ok {
			continue
		}
		if c.watched == 0 || !s.repeated(i, it) {
			kept, nodes = c.keep(kept, nodes, it, i)
		}
		if w := c.state[i].window; w != nil { // values a move held until this one
			for _, r := range w.release {
				kept, nodes = c.keep(kept, nodes, r, i)
			}
			w.release = nil
		}
	}
	s.scratch.items, s.scratch.nodes = kept, nodes
	return kept, nodes
}

// keep appends it, a value of node i, to kept and i to nodes.
func (c *Client) keep(kept []*ua.MonitoredItemNotification, nodes []int, it *ua.MonitoredItemNotification, i int) ([]*ua.MonitoredItemNotification, []int) {
	c.state[i].seen = unixNano(it.Value.SourceTimestamp)
	return append(kept, it), append(nodes, i)
}

// done drops the references to the last notification's items, so that
// the decoded notification is garbage while the drain waits for the next.
func (sc *scratch) done() {
	clear(sc.items)
	sc.items = sc.items[:0]
}

// readings converts items, of nodes, into readings in the session's chunk
// slice, valid until the next call: the sink copies what it keeps. A value
// that cannot be represented becomes a Null reading with the status
// saying why, logged once per node and status.
func (s *session) readings(items []*ua.MonitoredItemNotification, nodes []int) []factorybridge.Reading {
	c := s.c
	batch := s.scratch.batch
	if cap(batch) < len(items) {
		batch = make([]factorybridge.Reading, len(items))
	}
	batch = batch[:len(items)]
	for k, it := range items {
		i := nodes[k]
		batch[k] = factorybridge.Reading{} // setReading sets a zero reading
		err := setReading(&batch[k], &c.nodes[i].spec, it.Value, c.opts.MaxArrayLen)
		c.valueResult(i, err)
		s.itemHealth(i, it.Value.Status)
		if overflowed(it.Value.Status) {
			s.noteOverflow(i)
		}
	}
	s.scratch.batch = batch
	return batch
}

// repeated reports whether it, a value of node i, is not to be delivered
// now: a value a live update's re-created or modified item sends again, or
// a value of a moved node that its other item reported already or that is
// held until the old item catches up (update_window.go).
func (s *session) repeated(i int, it *ua.MonitoredItemNotification) bool {
	st, dv := &s.c.state[i], it.Value
	t := unixNano(dv.SourceTimestamp)
	if st.recreated {
		st.recreated = false
		s.c.watched--
		if t != 0 && t == st.seen {
			if !st.plain { // the rules compare with the last value: it is this one
				if r, err := reading(&s.c.nodes[i].spec, dv, s.c.opts.MaxArrayLen); err == nil {
					st.remember(&r)
				}
			}
			return true
		}
	}
	w := st.window
	if w == nil {
		return false
	}
	skip := w.admit(it, t, st.seen)
	if w.fromNew && w.oldGone && w.mode != holding && len(w.release) == 0 {
		s.c.endWindow(st)
	}
	return skip
}

// unixNano is t in Unix ns; 0 for the zero time (no source timestamp).
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// reading builds the reading of one data value of node n.
func reading(n *Node, dv *ua.DataValue, maxArrayLen int) (factorybridge.Reading, error) {
	var r factorybridge.Reading
	err := setReading(&r, n, dv, maxArrayLen)
	return r, err
}

// setReading sets the zero reading r to one data value of node n. readings
// builds its batch in place with it: a Reading is large, and building it
// apart and copying it in cost 8 % more CPU per value (BenchmarkDeliver).
func setReading(r *factorybridge.Reading, n *Node, dv *ua.DataValue, maxArrayLen int) error {
	r.Name, r.Server, r.Line, r.Station, r.NodeID = n.Name, n.Server, n.Line, n.Station, n.ref()
	r.Status = uint32(dv.Status)
	r.SourceTime, r.ServerTime = dv.SourceTimestamp, dv.ServerTimestamp
	v, err := convertValue(dv.Value, maxArrayLen)
	if status, failed := conversionStatus(err); failed {
		r.Status = uint32(status)
		return err
	}
	r.Value = v
	return nil
}

// valueResult logs a node's conversion failure when it differs from the last
// one logged.
func (c *Client) valueResult(i int, err error) {
	status, _ := conversionStatus(err)
	if c.valueStatus[i] == status {
		return
	}
	c.valueStatus[i] = status
	if err != nil {
		n := &c.nodes[i].spec
		c.log.Warn("value not representable", "node", n.Name, n.refKey(), n.ref(), "status", statusString(status), "err", err)
	}
}

// itemHealth counts an item the server accepted as failed while its values
// carry a status that says the node cannot be read at all (some servers,
// open62541 among them, accept a monitored item on an unreadable node and
// report BadNotReadable in its notifications). Its readings still go to the
// sink: a Bad reading is the truth about that node.
func (s *session) itemHealth(i int, status ua.StatusCode) {
	failed := itemFailure(status)
	if failed == s.itemFailed[i] {
		return
	}
	s.itemFailed[i] = failed
	d := 1
	if !failed {
		d, status = -1, ua.StatusOK
	}
	s.c.stats.update(func(st *Stats) { st.ItemsOK -= d; st.ItemsFailed += d })
	s.c.logItemStatus(s.c.dataStatus, i, status, "reported in a notification")
}

// itemFailure reports whether a value's status is about the monitored item
// (wrong node, no access) rather than about the value.
func itemFailure(s ua.StatusCode) bool {
	switch s {
	case ua.StatusBadNotReadable, ua.StatusBadNodeIDUnknown, ua.StatusBadNodeIDInvalid,
		ua.StatusBadAttributeIDInvalid, ua.StatusBadUserAccessDenied, ua.StatusBadSecurityModeInsufficient,
		ua.StatusBadIndexRangeInvalid, ua.StatusBadDataEncodingInvalid, ua.StatusBadDataEncodingUnsupported:
		return true
	}
	return false
}

// statusString names a status code compactly: "BadNotReadable (0x803A0000)".
func statusString(s ua.StatusCode) string {
	if d, ok := ua.StatusCodes[s]; ok {
		return fmt.Sprintf("%s (0x%08X)", strings.TrimPrefix(d.Name, "Status"), uint32(s))
	}
	return fmt.Sprintf("0x%08X", uint32(s))
}

// deliverUnresolved hands the sink one Bad reading, without a value, per
// node whose browse path did not resolve at this connect, so that the node's
// state downstream is the truth: it gives no data, and the status says why.
// It runs on Run's goroutine while the drain may append too; the Sink is
// shared by every client of the bridge and safe for that.
func (s *session) deliverUnresolved(unresolved map[int]pathTarget) error {
	if len(unresolved) == 0 {
		return nil
	}
	batch := make([]factorybridge.Reading, 0, len(unresolved))
	for _, i := range slices.Sorted(maps.Keys(unresolved)) {
		n := &s.c.nodes[i].spec
		batch = append(batch, factorybridge.Reading{
			Name: n.Name, Server: n.Server, Line: n.Line, Station: n.Station,
			NodeID: n.ref(), Status: uint32(unresolved[i].status),
		})
	}
	if err := s.c.opts.Sink.Append(s.flushCtx, batch); err != nil {
		if s.flushCtx.Err() != nil {
			return nil // shutting down
		}
		return &fatalError{fmt.Errorf("append readings: %w", err)}
	}
	s.c.stats.update(func(st *Stats) { st.Readings += uint64(len(batch)) })
	return nil
}
