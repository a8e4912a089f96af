package opcua

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"factorybridge"
)

// Cyclic reads. Nodes in ModeRead are not monitored: every ReadInterval
// (one goroutine per distinct interval) the session reads them with Read
// requests of at most the server's MaxNodesPerRead nodes, and hands the
// results to the drain as a DataChangeNotification with the nodes' client
// handles, so that they take the same path as subscribed values: item
// health, skip-first, heartbeats and backfill apply alike. With ReportCycle
// every node gives one reading per cycle; with ReportChange a value is
// delivered only when it is a change by the node's Trigger and (absolute)
// Deadband, as the server's DataChangeFilter would decide (acquire.go). A
// failed Read request fails the session like a failed publish; a node whose
// value is Bad gives a Bad reading.

// DefaultMaxNodesPerRead is the chunk size of Read requests when the server
// does not publish MaxNodesPerRead (or it is 0).
const DefaultMaxNodesPerRead = 1000

// readGroup is the nodes (indices) read at one interval.
type readGroup struct {
	interval time.Duration
	nodes    []int
}

// groupReads returns one group per distinct read interval, in increasing
// order of interval, nodes in configuration order.
func groupReads(nodes []node) []readGroup {
	idx := map[time.Duration]int{}
	var groups []readGroup
	for i := range nodes {
		spec := &nodes[i].spec
		if spec.Mode != ModeRead {
			continue
		}
		if _, ok := idx[spec.ReadInterval]; !ok {
			idx[spec.ReadInterval] = len(groups)
			groups = append(groups, readGroup{interval: spec.ReadInterval})
		}
		groups[idx[spec.ReadInterval]].nodes = append(groups[idx[spec.ReadInterval]].nodes, i)
	}
	slices.SortFunc(groups, func(a, b readGroup) int { return cmp.Compare(a.interval, b.interval) })
	return groups
}

// startReads resolves the read nodes and starts a reader per group; it
// returns how many nodes resolved and how many did not.
func (s *session) startReads(ctx context.Context, namespaces []string) (ok, failed int) {
	if len(s.c.reads) == 0 {
		return 0, 0
	}
	if s.readers.perRead == 0 {
		s.readers.perRead = s.nodesPerRead(ctx)
	}
	perRead := s.readers.perRead
	ctx, s.readers.cancel = context.WithCancel(ctx)
	for _, g := range s.c.reads {
		var handles []int
		var ids []*ua.ReadValueID
		for _, i := range g.nodes {
			nid, err := s.c.nodes[i].resolve(namespaces)
			if err != nil {
				failed++
				s.c.itemResult(i, ua.StatusBadNodeIDUnknown, fmt.Sprintf("namespace %q: %v", s.c.nodes[i].nsURI, err))
				continue
			}
			ok++
			s.c.itemResult(i, ua.StatusOK, "")
			handles = append(handles, int(s.c.nodes[i].handle))
			ids = append(ids, &ua.ReadValueID{NodeID: nid, AttributeID: ua.AttributeIDValue, DataEncoding: &ua.QualifiedName{}})
		}
		if len(ids) > 0 {
			s.readers.wg.Go(func() { s.readLoop(ctx, g.interval, handles, ids, perRead) })
		}
	}
	return ok, failed
}

// readLoop reads the nodes at once and then every interval until ctx ends
// or a read fails. A cycle that takes longer than the interval delays the
// next; cycles never overlap.
func (s *session) readLoop(ctx context.Context, interval time.Duration, handles []int, ids []*ua.ReadValueID, perRead int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.readCycle(ctx, handles, ids, perRead); err != nil {
			if ctx.Err() == nil {
				s.report(err)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// readCycle reads every node once, in chunks of perRead, and passes each
// chunk's values to the drain.
func (s *session) readCycle(ctx context.Context, handles []int, ids []*ua.ReadValueID, perRead int) error {
	for start := 0; start < len(ids); start += perRead {
		end := min(start+perRead, len(ids))
		items, err := s.readChunk(ctx, handles[start:end], ids[start:end])
		if err != nil {
			return err
		}
		select {
		case s.notify <- &opcua.PublishNotificationData{Value: &ua.DataChangeNotification{MonitoredItems: items}}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// readChunk sends one Read request and returns its results as monitored
// item notifications of the nodes' client handles.
func (s *session) readChunk(ctx context.Context, handles []int, ids []*ua.ReadValueID) ([]*ua.MonitoredItemNotification, error) {
	rctx, cancel := context.WithTimeout(ctx, s.c.opts.RequestTimeout)
	defer cancel()
	resp, err := s.ua.Read(rctx, &ua.ReadRequest{NodesToRead: ids, TimestampsToReturn: ua.TimestampsToReturnBoth})
	if err == nil && len(resp.Results) != len(ids) {
		err = fmt.Errorf("%d results for %d nodes", len(resp.Results), len(ids))
	}
	if err != nil {
		return nil, fmt.Errorf("read %d nodes: %w", len(ids), err)
	}
	s.c.stats.update(func(st *Stats) { st.Reads++ })
	items := make([]*ua.MonitoredItemNotification, len(ids))
	for k, dv := range resp.Results {
		if dv == nil {
			dv = &ua.DataValue{EncodingMask: ua.DataValueStatusCode, Status: ua.StatusBad}
		}
		items[k] = &ua.MonitoredItemNotification{ClientHandle: uint32(handles[k]), Value: dv}
	}
	return items, nil
}

// nodesPerRead is the chunk size of Read requests: the server's
// MaxNodesPerRead (i=11705), or DefaultMaxNodesPerRead.
func (s *session) nodesPerRead(ctx context.Context) int {
	n := DefaultMaxNodesPerRead
	if limit, err := s.readUint32(ctx, id.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead); err == nil && limit > 0 {
		n = int(min(limit, 1<<20))
	} else if err != nil {
		s.c.log.Debug("read MaxNodesPerRead", "err", err)
	}
	return n
}

// changed reports whether b is a change from a by the node's trigger and
// deadband, as a DataChangeFilter decides (Part 4, 7.22.2): a change of
// status always; of the value, beyond an absolute deadband for numbers
// (elementwise for arrays), with status_value and status_value_timestamp;
// of the source timestamp with status_value_timestamp.
func changed(n *Node, a, b *factorybridge.Reading) bool {
	switch {
	case a.Status != b.Status:
		return true
	case n.Trigger == "status":
		return false
	case n.Trigger == "status_value_timestamp" && !a.SourceTime.Equal(b.SourceTime):
		return true
	}
	if n.Deadband == "absolute" && n.DeadbandValue > 0 {
		return beyondDeadband(&a.Value, &b.Value, n.DeadbandValue)
	}
	return !equalValues(&a.Value, &b.Value)
}

// beyondDeadband reports whether b differs from a by more than d; values
// that are not numbers (or arrays of different lengths) compare exactly.
func beyondDeadband(a, b *factorybridge.Value, d float64) bool {
	if a.Type != b.Type || a.Array != b.Array || len(a.Elems) != len(b.Elems) {
		return true
	}
	if a.Array {
		for k := range a.Elems {
			if beyondDeadband(&a.Elems[k], &b.Elems[k], d) {
				return true
			}
		}
		return false
	}
	x, okA := number(a)
	y, okB := number(b)
	if !okA || !okB {
		return !equalValues(a, b)
	}
	return math.Abs(x-y) > d
}

// number returns a numeric value as a float64.
func number(v *factorybridge.Value) (float64, bool) {
	switch v.Type.Kind() {
	case factorybridge.KindInt:
		return float64(v.Int()), true
	case factorybridge.KindUint:
		return float64(v.Uint()), true
	case factorybridge.KindFloat:
		return v.Float(), true
	}
	return 0, false
}
