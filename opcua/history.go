package opcua

import (
	"context"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
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
