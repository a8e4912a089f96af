package opcua

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

const (
	// maxNotificationsPerPublish bounds one publish response per subscription.
	maxNotificationsPerPublish = 10000
	// subscriptionLifetime is how long a server keeps a subscription that
	// gets no publish requests. gopcua sends none while the sink applies
	// backpressure, so it is generous; a lost session deletes it anyway.
	subscriptionLifetime = 10 * time.Minute
)

// subscribed is the outcome of creating a session's subscriptions.
type subscribed struct {
	ok, failed int
	keepAlive  time.Duration // longest revised keep-alive period
	// unresolved are the nodes whose browse path did not resolve, with why.
	unresolved map[int]pathTarget
	eventSubs  []uint32 // event subscriptions that want a ConditionRefresh
}

// subscribe resolves the browse paths, then creates one subscription per
// publishing interval and its monitored items in chunks the server accepts.
// Items the server rejects and paths that do not resolve are logged and
// counted; the others go on.
func (s *session) subscribe(ctx context.Context) (subscribed, error) {
	res := subscribed{unresolved: map[int]pathTarget{}}
	namespaces := s.ua.Namespaces() // NamespaceArray (i=2255), read by Connect
	paths, err := s.resolvePaths(ctx, namespaces)
	if err != nil {
		return res, err
	}
	r := resolver{namespaces: namespaces, paths: paths}
	perCall := s.itemsPerCall(ctx)
	for _, g := range s.c.groups {
		if err := s.subscribeGroup(ctx, g, r, perCall, &res); err != nil {
			return res, err
		}
	}
	return res, s.subscribeEvents(ctx, namespaces, &res)
}

// resolver turns nodes into node ids for one session: nsu= ids by the
// NamespaceArray, paths by what TranslateBrowsePathsToNodeIds returned.
type resolver struct {
	namespaces []string
	paths      map[int]pathTarget
}

// resolve returns node i's id, or the status and reason it has none.
func (r resolver) resolve(i int, n *node) (*ua.NodeID, pathTarget) {
	if n.path != nil {
		t := r.paths[i]
		if t.id == nil && isGood(t.status) {
			t.status = ua.StatusBadNoMatch // not resolved at all: never Good without an id
		}
		return t.id, t
	}
	nid, err := n.resolve(r.namespaces)
	if err != nil {
		return nil, pathTarget{status: ua.StatusBadNodeIDUnknown, reason: fmt.Sprintf("namespace %q: %v", n.nsURI, err)}
	}
	return nid, pathTarget{}
}

func (s *session) subscribeGroup(ctx context.Context, g group, r resolver, perCall int, res *subscribed) error {
	// gopcua stops its publish loop on any service fault but keeps the
	// channel open, and Subscribe then blocks for good on the loop's
	// two-slot resume channel (a send without ctx): stop before that.
	if st := s.ua.State(); st != opcua.Connected {
		return fmt.Errorf("connection lost while subscribing (gopcua state %s)", st)
	}
	sub, err := s.ua.Subscribe(ctx, s.subscriptionParams(g.interval), s.notify)
	if err != nil {
		return fmt.Errorf("create subscription (publishing interval %s): %w", g.interval, err)
	}
	res.keepAlive = max(res.keepAlive, sub.RevisedPublishingInterval*time.Duration(sub.RevisedMaxKeepAliveCount))
	s.c.log.Debug("subscription created", "subscription", sub.SubscriptionID,
		"publishing_interval", sub.RevisedPublishingInterval, "keep_alive_count", sub.RevisedMaxKeepAliveCount,
		"lifetime_count", sub.RevisedLifetimeCount, "nodes", len(g.nodes))
	s.subs[g.interval] = sub
	reqs, nodes := s.itemRequests(g.nodes, r, res)
	return s.createChunks(ctx, sub.SubscriptionID, reqs, nodes, perCall, res)
}

// createChunks creates the items of nodes (reqs[k] is nodes[k]'s) in
// chunks of perCall.
func (s *session) createChunks(ctx context.Context, subID uint32, reqs []*ua.MonitoredItemCreateRequest, nodes []int, perCall int, res *subscribed) error {
	for start := 0; start < len(reqs); start += perCall {
		end := min(start+perCall, len(reqs))
		if err := s.createItems(ctx, subID, reqs[start:end], nodes[start:end], res); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) subscriptionParams(interval time.Duration) *opcua.SubscriptionParameters {
	keepAlive := max(1, ceilDiv(s.c.opts.KeepAlive, interval))
	return &opcua.SubscriptionParameters{
		Interval:                   interval,
		MaxKeepAliveCount:          keepAlive,
		LifetimeCount:              max(3*keepAlive, ceilDiv(subscriptionLifetime, interval)),
		MaxNotificationsPerPublish: maxNotificationsPerPublish,
	}
}

func ceilDiv(a, b time.Duration) uint32 {
	if b <= 0 {
		return 1
	}
	return uint32(min((a+b-1)/b, 1<<31))
}

// itemRequests resolves the ids of nodes (indices) and returns their
// create requests and the nodes they are for; a node whose namespace URI the
// server does not know, or whose path does not resolve, fails here like a
// node the server rejects.
func (s *session) itemRequests(nodes []int, r resolver, res *subscribed) ([]*ua.MonitoredItemCreateRequest, []int) {
	reqs := make([]*ua.MonitoredItemCreateRequest, 0, len(nodes))
	idx := make([]int, 0, len(nodes))
	for _, i := range nodes {
		n := &s.c.nodes[i]
		nid, why := r.resolve(i, n)
		if nid == nil {
			res.failed++
			s.c.itemResult(i, why.status, why.reason)
			if n.path != nil {
				res.unresolved[i] = why
			}
			continue
		}
		reqs = append(reqs, n.createRequest(nid, n.handle))
		idx = append(idx, i)
	}
	return reqs, idx
}

// createItems sends one CreateMonitoredItems call. It uses Send rather than
// Subscription.Monitor, which indexes the results without checking their
// count and keeps per-item state only gopcua's (disabled) reconnect reads.
// nodes[k] is the node of items[k].
func (s *session) createItems(ctx context.Context, subID uint32, items []*ua.MonitoredItemCreateRequest, nodes []int, res *subscribed) error {
	req := &ua.CreateMonitoredItemsRequest{
		SubscriptionID:     subID,
		TimestampsToReturn: ua.TimestampsToReturnBoth,
		ItemsToCreate:      items,
	}
	var resp *ua.CreateMonitoredItemsResponse
	err := s.ua.Send(ctx, req, func(v ua.Response) error {
		r, ok := v.(*ua.CreateMonitoredItemsResponse)
		if !ok {
			return fmt.Errorf("unexpected response %T", v)
		}
		resp = r
		return nil
	})
	if err == nil && len(resp.Results) != len(items) {
		err = fmt.Errorf("%d results for %d items", len(resp.Results), len(items))
	}
	if err != nil {
		return fmt.Errorf("create monitored items: %w", err)
	}
	s.c.log.Debug("monitored items created", "subscription", subID, "items", len(items))
	s.countResults(nodes, resp.Results, res)
	return nil
}

// countResults logs and counts the create results of nodes and keeps the
// ids of the items created, for a live update to modify or delete them.
func (s *session) countResults(nodes []int, results []*ua.MonitoredItemCreateResult, res *subscribed) {
	for k, r := range results {
		i := nodes[k]
		status := ua.StatusBad
		if r != nil {
			status = r.StatusCode
		}
		if isGood(status) {
			status = ua.StatusOK // a Good subcode is not worth a log line
			s.itemIDs[i] = r.MonitoredItemID
			res.ok++
		} else {
			res.failed++
		}
		s.c.itemResult(i, status, "rejected by the server")
	}
}

// itemsPerCall is the chunk size of CreateMonitoredItems: the server's
// MaxMonitoredItemsPerCall (i=11714), lowered by Options.MaxItemsPerCall.
func (s *session) itemsPerCall(ctx context.Context) int {
	n := DefaultMaxItemsPerCall
	if limit, err := s.readUint32(ctx, id.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall); err == nil && limit > 0 {
		n = int(min(limit, 1<<20))
	} else if err != nil {
		s.c.log.Debug("read MaxMonitoredItemsPerCall", "err", err)
	}
	if m := s.c.opts.MaxItemsPerCall; m > 0 {
		n = min(n, m)
	}
	return n
}

// readUint32 reads a UInt32 variable of namespace 0.
func (s *session) readUint32(ctx context.Context, nodeID uint32) (uint32, error) {
	res, err := s.ua.Read(ctx, &ua.ReadRequest{
		NodesToRead: []*ua.ReadValueID{{NodeID: ua.NewNumericNodeID(0, nodeID)}},
	})
	if err != nil {
		return 0, err
	}
	if len(res.Results) != 1 || !isGood(res.Results[0].Status) || res.Results[0].Value == nil {
		return 0, errors.New("no good value")
	}
	v, ok := res.Results[0].Value.Value().(uint32)
	if !ok {
		return 0, fmt.Errorf("value is %T, not uint32", res.Results[0].Value.Value())
	}
	return v, nil
}

// isGood reports whether a status code's severity is Good.
func isGood(s ua.StatusCode) bool { return uint32(s)>>30 == 0 }
