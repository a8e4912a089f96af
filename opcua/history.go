package opcua

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"factorybridge"
)

// historized reads, with a Read request (whose failures gopcua does not
// take for a lost connection), whether the server offers history at all
// (Server/ServerCapabilities/HistoryServerCapabilities/
// AccessHistoryDataCapability) and which backfill nodes it historizes
// (their Historizing attribute). A node counts as historized only when
// both say so.
func (s *session) historized(ctx context.Context, namespaces []string) []bool {
	out := make([]bool, len(s.c.nodes))
	ctx, cancel := context.WithTimeout(ctx, s.c.opts.RequestTimeout)
	defer cancel()
	req := &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{
		NodeID: ua.NewNumericNodeID(0, id.HistoryServerCapabilities_AccessHistoryDataCapability), AttributeID: ua.AttributeIDValue}}}
	var idx []int
	for i := range s.c.nodes {
		if !s.c.nodes[i].spec.Backfill {
			continue
		}
		if nid, err := s.c.nodes[i].resolve(namespaces); err == nil {
			req.NodesToRead = append(req.NodesToRead, &ua.ReadValueID{NodeID: nid, AttributeID: ua.AttributeIDHistorizing})
			idx = append(idx, i)
		}
	}
	resp, err := s.ua.Read(ctx, req)
	if err != nil || len(resp.Results) != len(req.NodesToRead) || !isTrue(resp.Results[0]) {
		s.c.log.Debug("history not offered", "err", err)
		return out
	}
	for k, i := range idx {
		out[i] = isTrue(resp.Results[k+1])
	}
	return out
}

// isTrue reports whether a read result is a Good Boolean true.
func isTrue(dv *ua.DataValue) bool {
	if dv == nil || !isGood(dv.Status) || dv.Value == nil {
		return false
	}
	b, ok := dv.Value.Value().(bool)
	return ok && b
}

// noHistory logs, once per node, that its gaps cannot be filled.
func (c *Client) noHistory(i int) {
	if c.noHistoryLogged == nil {
		c.noHistoryLogged = make([]bool, len(c.nodes))
	}
	if c.noHistoryLogged[i] {
		return
	}
	c.noHistoryLogged[i] = true
	n := &c.nodes[i].spec
	c.log.Warn("backfill not possible: the server keeps no history of the node; its gaps stay", "node", n.Name, "node_id", n.ID)
}

// fill reads one gap from the server's history.
func (s *session) fill(ctx context.Context, g *gapFill, namespaces []string) *gapResult {
	res := &gapResult{gap: g}
	n := &s.c.nodes[g.node]
	nid, err := n.resolve(namespaces)
	if err != nil {
		res.err = err
		return res
	}
	from, bounded := g.from, false
	if oldest := s.c.now().Add(-s.c.backfill.MaxAge); from.Before(oldest) {
		from, bounded = oldest, true
	}
	dvs, complete, err := s.readHistory(ctx, nid, from, g.to, s.c.backfill.MaxValues)
	res.err, res.complete = err, complete && !bounded
	for _, dv := range dvs {
		if dv == nil || !dv.SourceTimestamp.After(g.from) || !dv.SourceTimestamp.Before(g.to) {
			continue
		}
		r, _ := reading(&n.spec, dv, s.c.opts.MaxArrayLen) // a bad value is delivered with its status
		r.Class = factorybridge.ClassBackfill
		res.values = append(res.values, r)
	}
	return res
}

// readHistory reads the raw history of nid over [from, to], following
// continuation points up to max values; complete is false when it stopped
// at max (the server's continuation point is then released).
func (s *session) readHistory(ctx context.Context, nid *ua.NodeID, from, to time.Time, max int) ([]*ua.DataValue, bool, error) {
	var out []*ua.DataValue
	var cp []byte
	for {
		hd, next, err := s.historyPage(ctx, nid, from, to, cp, false)
		if err != nil {
			return out, false, err
		}
		out = append(out, hd...)
		if len(next) == 0 {
			return out, true, nil
		}
		if len(out) >= max {
			_, _, _ = s.historyPage(ctx, nid, from, to, next, true) // release it: best effort
			return out, false, nil
		}
		cp = next
	}
}

// historyPage sends one HistoryRead raw request for one node. gopcua's
// HistoryReadRawModified can neither release a continuation point nor send
// a DataEncoding, which it then encodes as nothing at all (open62541 answers
// BadDecodingError), so the request is built here.
func (s *session) historyPage(ctx context.Context, nid *ua.NodeID, from, to time.Time, cp []byte, release bool) ([]*ua.DataValue, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.c.opts.RequestTimeout)
	defer cancel()
	req := &ua.HistoryReadRequest{
		HistoryReadDetails: &ua.ExtensionObject{
			TypeID:       ua.NewFourByteExpandedNodeID(0, id.ReadRawModifiedDetails_Encoding_DefaultBinary),
			EncodingMask: ua.ExtensionObjectBinary,
			Value:        &ua.ReadRawModifiedDetails{StartTime: from, EndTime: to, NumValuesPerNode: backfillPage},
		},
		TimestampsToReturn:        ua.TimestampsToReturnBoth,
		ReleaseContinuationPoints: release,
		NodesToRead:               []*ua.HistoryReadValueID{{NodeID: nid, DataEncoding: &ua.QualifiedName{}, ContinuationPoint: cp}},
	}
	var resp *ua.HistoryReadResponse
	err := s.ua.Send(ctx, req, func(v ua.Response) error {
		r, ok := v.(*ua.HistoryReadResponse)
		if !ok {
			return fmt.Errorf("unexpected response %T", v)
		}
		resp = r
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("history read: %w", err)
	}
	return historyData(resp)
}

// historyData takes the values and continuation point of a one-node
// HistoryRead response.
func historyData(resp *ua.HistoryReadResponse) ([]*ua.DataValue, []byte, error) {
	if len(resp.Results) != 1 || resp.Results[0] == nil {
		return nil, nil, fmt.Errorf("history read: %d results for 1 node", len(resp.Results))
	}
	r := resp.Results[0]
	if !isGood(r.StatusCode) {
		return nil, nil, fmt.Errorf("history read: %w", r.StatusCode)
	}
	if r.HistoryData == nil || r.HistoryData.Value == nil {
		return nil, r.ContinuationPoint, nil // no values in the range
	}
	hd, ok := r.HistoryData.Value.(*ua.HistoryData)
	if !ok {
		return nil, nil, errors.New("history read: the server sent no HistoryData")
	}
	return hd.DataValues, r.ContinuationPoint, nil
}
