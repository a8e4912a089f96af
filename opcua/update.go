package opcua

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
)

// Live updates. Update hands the client a new list of nodes and event
// sources; Run's goroutine applies it. Between sessions the new list simply
// replaces the old one. On a running session it is applied as the
// difference, on that session, without reconnecting:
//
//   - a node is the same node when its id (or browse path) is the same: the
//     k-th node of an id in the old list is the k-th of that id in the new;
//     its state (last value, skip-first, heartbeat, backfill watermark) is
//     kept, whatever else changed (name, station, heartbeat, …);
//   - added nodes get a monitored item (or join the cyclic reads), removed
//     nodes lose theirs; the values of a removed node still in flight when
//     its item is deleted are not delivered: its readings end at the update;
//   - a changed sampling interval, queue size, trigger or deadband is a
//     ModifyMonitoredItems of the node's item, which keeps its queue;
//   - a changed publishing interval moves the node to the subscription of
//     that interval: the new item is created, and the old one deleted only
//     once both have reported a same value (overlaps), so that no value
//     falls between them: a server deletes the values still queued in a
//     deleted item, and the new one starts with the value current at its
//     creation. While both report, a value is delivered once and in order
//     of source time (dupWindow);
//   - a node whose mode changed (subscribe ↔ read) changes how it is read;
//   - a re-created or modified item's first value, which a server sends
//     again on creation (and may on modification), is dropped when it
//     repeats the last value delivered: it is not a new reading;
//   - event sources, when they changed at all, are subscribed afresh (the
//     event subscriptions deleted, created again, conditions refreshed);
//     events raised in the round trip between are not seen.
//
// An update waits until the session's gaps are filled (backfill.go). A
// failed service call fails the session: the next one starts from the new
// list, as any session does.

// markerDelay is how long after the old items of moved nodes were deleted
// the drain stops accepting their values: the publish responses the server
// sent before the deletion are on their way through gopcua meanwhile.
const markerDelay = 200 * time.Millisecond

// Update replaces the client's nodes and event sources with opts.Nodes and
// opts.Events; the other fields of opts are ignored (a change of endpoint,
// security or identity needs a new Client). It checks them as New does and
// returns an error, changing nothing, when they are not valid; otherwise it
// returns at once and Run applies them (the client logs "nodes updated").
// A later Update replaces one not applied yet. Safe for concurrent use.
func (c *Client) Update(opts Options) error {
	next := &Client{opts: c.opts, log: c.log}
	if err := next.load(opts.Nodes, opts.Events); err != nil {
		return fmt.Errorf("server %s: %w", c.opts.Name, err)
	}
	c.pendingMu.Lock()
	c.pending = next
	c.pendingMu.Unlock()
	c.signalUpdate()
	return nil
}

func (c *Client) signalUpdate() {
	select {
	case c.updated <- struct{}{}:
	default:
	}
}

func (c *Client) takePending() *Client {
	c.pendingMu.Lock()
	defer c.pendingMu.Unlock()
	next := c.pending
	c.pending = nil
	return next
}

// change is what an update does to one node of the new list.
type change uint8

const (
	added    change = iota
	kept            // nothing on the server: same item, same reads
	modified        // ModifyMonitoredItems
	moved           // another publishing interval: another subscription
	switched        // subscribe ↔ read
)

// update is the difference between the running list and the next one.
type update struct {
	next    *Client
	from    []int    // per new node: its index in the old list, -1 if added
	how     []change // per new node
	removed []int    // old indices of the nodes that are gone
	events  bool     // the event sources changed
	reads   bool     // the cyclic reads changed
}

type nodeKey struct {
	ref string
	k   int // the k-th node with this ref
}

// planUpdate matches the nodes of next with c's.
func planUpdate(c, next *Client) *update {
	u := &update{next: next, from: make([]int, len(next.nodes)), how: make([]change, len(next.nodes))}
	old := make(map[nodeKey]int, len(c.nodes))
	seen := map[string]int{}
	for i := range c.nodes {
		ref := c.nodes[i].spec.ref()
		old[nodeKey{ref, seen[ref]}] = i
		seen[ref]++
	}
	clear(seen)
	used := make([]bool, len(c.nodes))
	for j := range next.nodes {
		b := &next.nodes[j].spec
		i, ok := old[nodeKey{b.ref(), seen[b.ref()]}]
		seen[b.ref()]++
		if !ok {
			u.from[j], u.how[j] = -1, added
			u.reads = u.reads || b.Mode == ModeRead
			continue
		}
		a := &c.nodes[i].spec
		u.from[j], used[i] = i, true
		u.how[j] = changeOf(a, b)
		u.reads = u.reads || u.how[j] == switched || (b.Mode == ModeRead && a.ReadInterval != b.ReadInterval)
	}
	for i, ok := range used {
		if !ok {
			u.removed = append(u.removed, i)
			u.reads = u.reads || c.nodes[i].spec.Mode == ModeRead
		}
	}
	u.events = len(c.events) != len(next.events)
	for k := 0; !u.events && k < len(c.events); k++ {
		u.events = !reflect.DeepEqual(c.events[k].spec, next.events[k].spec)
	}
	return u
}

func changeOf(a, b *Node) change {
	switch {
	case a.Mode != b.Mode:
		return switched
	case a.Mode == ModeRead:
		return kept
	case a.PublishingInterval != b.PublishingInterval:
		return moved
	case a.SamplingInterval != b.SamplingInterval, a.QueueSize != b.QueueSize, a.Trigger != b.Trigger,
		a.Deadband != b.Deadband, a.DeadbandValue != b.DeadbandValue:
		return modified
	}
	return kept
}

// attrs are an update's counts as log attributes.
func (u *update) attrs() []any {
	var n [switched + 1]int
	for _, h := range u.how {
		n[h]++
	}
	return []any{"nodes", len(u.how), "added", n[added], "removed", len(u.removed), "modified", n[modified],
		"moved", n[moved], "switched", n[switched], "events_changed", u.events}
}

// applyPending applies an update between sessions, and gives every node
// its index as client handle again: the session about to start creates
// every item afresh.
func (c *Client) applyPending() {
	if next := c.takePending(); next != nil {
		u := planUpdate(c, next)
		c.adopt(u, nil)
		c.log.Info("nodes updated; the next session subscribes to them", u.attrs()...)
	}
	for i := range c.nodes {
		c.nodes[i].handle = uint32(i)
	}
	c.byHandle, c.nextHandle = nil, uint32(len(c.nodes))
}

// index returns the node of a client handle.
func (c *Client) index(h uint32) (int, bool) {
	if c.byHandle == nil {
		return int(h), h < uint32(len(c.nodes))
	}
	i, ok := c.byHandle[h]
	return i, ok
}

// adopt makes u's list the client's, carrying each kept node's state. With
// a session s it runs on s's drain goroutine while Run's waits: kept items
// keep their client handles, new items get new ones. It returns what tells
// when the moved nodes' items overlap.
func (c *Client) adopt(u *update, s *session) *overlaps {
	next := u.next
	if s != nil {
		s.finishMoves(true) // of an update before this one
	}
	var moves []move
	wait := &overlaps{done: make(chan struct{})}
	for j := range next.nodes {
		i := u.from[j]
		if i < 0 {
			next.state[j].first = true
			if s != nil {
				next.nodes[j].handle = c.newHandle()
			}
			continue
		}
		c.carry(next, i, j)
		if s == nil {
			continue
		}
		st, n := &next.state[j], &next.nodes[j]
		n.handle = c.nodes[i].handle
		st.recreated, st.window = false, nil // of an earlier update
		switch u.how[j] {
		case modified, switched:
			st.recreated = true
		case moved:
			n.handle = c.newHandle()
			st.window = &dupWindow{newHandle: n.handle, wait: wait}
			wait.left++
			moves = append(moves, move{node: j, handle: c.nodes[i].handle})
		}
	}
	if !u.events {
		next.events, next.eventGroups, next.eventStatus, next.fieldsLogged = c.events, c.eventGroups, c.eventStatus, c.fieldsLogged
	} else {
		c.evGen++
	}
	c.nodes, c.groups, c.reads, c.state, c.minHeartbeat = next.nodes, next.groups, next.reads, next.state, next.minHeartbeat
	c.events, c.eventGroups, c.eventStatus, c.fieldsLogged = next.events, next.eventGroups, next.eventStatus, next.fieldsLogged
	c.itemStatus, c.valueStatus, c.dataStatus, c.noHistoryLogged = next.itemStatus, next.valueStatus, next.dataStatus, next.noHistoryLogged
	c.allPlain = c.plainAll()
	c.watched = 0
	for j := range c.state {
		if c.state[j].recreated || c.state[j].window != nil {
			c.watched++
		}
	}
	if s != nil {
		s.adopted(u, moves)
	}
	if wait.left == 0 {
		close(wait.done)
	}
	return wait
}

// carry moves old node i's state to next's node j.
func (c *Client) carry(next *Client, i, j int) {
	plain := next.state[j].plain
	next.state[j] = c.state[i]
	next.state[j].plain = plain
	next.itemStatus[j], next.valueStatus[j], next.dataStatus[j] = c.itemStatus[i], c.valueStatus[i], c.dataStatus[i]
	if c.noHistoryLogged != nil {
		if next.noHistoryLogged == nil {
			next.noHistoryLogged = make([]bool, len(next.nodes))
		}
		next.noHistoryLogged[j] = c.noHistoryLogged[i]
	}
}

func (c *Client) plainAll() bool {
	for i := range c.state {
		if !c.state[i].plain {
			return false
		}
	}
	return true
}

func (c *Client) newHandle() uint32 {
	h := c.nextHandle
	c.nextHandle++
	return h
}

// move is a node whose item moved to another subscription, with its old
// item's handle, still accepted until the old item's values are through.
type move struct {
	node   int
	handle uint32
}

// updateDone is the marker the session puts on the notification channel
// once the old items of moved nodes are deleted (after markerDelay):
// everything they sent is ahead of it.
type updateDone struct{ gen int }

// adopted updates the session's per-node state after adopt (on the drain).
func (s *session) adopted(u *update, moves []move) {
	c := s.c
	failed := make([]bool, len(c.nodes))
	for j, i := range u.from {
		if i >= 0 {
			failed[j] = s.itemFailed[i]
		}
	}
	s.itemFailed = failed
	s.unsettled = make([]bool, len(c.nodes)) // every gap is known before an update
	if u.events {
		s.evMu.Lock()
		s.evOn = nil
		s.evMu.Unlock()
	}
	s.moves, s.moveGen = moves, s.moveGen+1
	c.byHandle = make(map[uint32]int, len(c.nodes)+len(moves))
	for j := range c.nodes {
		c.byHandle[c.nodes[j].handle] = j
	}
	for _, m := range moves {
		c.byHandle[m.handle] = m.node
	}
}

// finishMoves ends the moves of the last update: the old items' handles
// are no longer accepted. A node's values are no longer checked for
// repeats once its new item has sent its first value too (it sends it at
// its subscription's next publishing cycle, which may come after the
// marker); with force, at once. On the drain.
func (s *session) finishMoves(force bool) {
	c := s.c
	for _, m := range s.moves {
		delete(c.byHandle, m.handle)
		st := &c.state[m.node]
		switch w := st.window; {
		case w == nil:
		case force || w.fromNew:
			c.endWindow(st)
		default:
			w.oldGone = true
		}
	}
	s.moves = nil
}

// endWindow stops checking a moved node's values for repeats.
func (c *Client) endWindow(st *nodeState) {
	st.window = nil
	c.watched--
}

// updateDone handles the marker of an update; a marker of an earlier
// update (another came meanwhile and finished its moves) is ignored.
func (s *session) updateDone(d updateDone) {
	if d.gen == s.moveGen {
		s.finishMoves(false)
	}
}

// onDrain runs f on the drain's goroutine and waits for it.
func (s *session) onDrain(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case s.ctl <- func() { f(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// update applies the pending update on the running session (Run's
// goroutine, from supervise).
func (s *session) update(ctx context.Context) error {
	if !s.gapsKnown {
		return nil // supervise signals again once they are
	}
	next := s.c.takePending()
	if next == nil {
		return nil
	}
	u := planUpdate(s.c, next)
	oldNodes, oldIDs := s.c.nodes, s.itemIDs
	var gen int
	var wait *overlaps
	if err := s.onDrain(ctx, func() { wait = s.c.adopt(u, s); gen = s.moveGen }); err != nil {
		return err
	}
	dels, movedDels := s.remapItems(u, oldNodes, oldIDs)
	var res subscribed
	if err := s.applyItems(ctx, u, &res); err != nil {
		return err
	}
	if err := s.deleteAll(ctx, dels); err != nil {
		return err
	}
	if err := s.awaitOverlaps(ctx, u, oldNodes, oldIDs, wait); err != nil {
		return err
	}
	if err := s.deleteAll(ctx, movedDels); err != nil {
		return err
	}
	if err := s.dropEmptySubscriptions(ctx); err != nil {
		return err
	}
	if u.reads {
		s.readers.stop()
		s.startReads(s.readers.parent, s.ua.Namespaces())
	}
	if u.events {
		if err := s.resubscribeEvents(ctx); err != nil {
			return err
		}
	}
	s.recount()
	s.c.stats.update(func(st *Stats) { st.Updates++ })
	s.c.log.Info("nodes updated on the running session", u.attrs()...)
	s.wg.Go(func() { s.mark(ctx, gen) })
	return s.deliverUnresolved(res.unresolved)
}

// remapItems carries the monitored item ids of the kept items to the new
// list and returns the items to delete, by the publishing interval of
// their subscription: those of removed nodes and the old items of switched
// ones (dels), and the old items of moved ones (moves).
func (s *session) remapItems(u *update, oldNodes []node, oldIDs []uint32) (dels, moves map[time.Duration][]uint32) {
	dels, moves = map[time.Duration][]uint32{}, map[time.Duration][]uint32{}
	drop := func(to map[time.Duration][]uint32, i int) {
		if oldIDs[i] != 0 {
			iv := oldNodes[i].spec.PublishingInterval
			to[iv] = append(to[iv], oldIDs[i])
		}
	}
	for _, i := range u.removed {
		drop(dels, i)
	}
	s.itemIDs = make([]uint32, len(u.from))
	for j, i := range u.from {
		switch {
		case i < 0:
		case u.how[j] == moved:
			drop(moves, i)
		case u.how[j] == switched:
			drop(dels, i)
		default:
			s.itemIDs[j] = oldIDs[i]
		}
	}
	return dels, moves
}

// deleteAll deletes items, by the publishing interval of their
// subscription.
func (s *session) deleteAll(ctx context.Context, dels map[time.Duration][]uint32) error {
	for interval, ids := range dels {
		if err := s.deleteItems(ctx, interval, ids); err != nil {
			return err
		}
	}
	return nil
}

// applyItems creates the items of added, moved and switched nodes and
// modifies those of modified ones (a modified node whose item failed to be
// created is created now).
func (s *session) applyItems(ctx context.Context, u *update, res *subscribed) error {
	byInterval := map[time.Duration][]int{}
	var modify []int
	for j, h := range u.how {
		n := &s.c.nodes[j].spec
		if n.Mode != ModeSubscribe {
			continue
		}
		switch {
		case h == added, h == moved, h == switched, h == modified && s.itemIDs[j] == 0:
			byInterval[n.PublishingInterval] = append(byInterval[n.PublishingInterval], j)
		case h == modified:
			modify = append(modify, j)
		}
	}
	if err := s.createFor(ctx, byInterval, res); err != nil {
		return err
	}
	return s.modifyItems(ctx, modify)
}

// createFor creates the items of the nodes, by publishing interval, in
// the interval's subscription (created when there is none).
func (s *session) createFor(ctx context.Context, byInterval map[time.Duration][]int, res *subscribed) error {
	if len(byInterval) == 0 {
		return nil
	}
	res.unresolved = map[int]pathTarget{}
	namespaces := s.ua.Namespaces()
	paths := map[int]BrowsePath{}
	for _, nodes := range byInterval {
		for _, j := range nodes {
			if p := s.c.nodes[j].path; p != nil {
				paths[j] = *p
			}
		}
	}
	targets, err := s.translatePaths(ctx, paths, namespaces)
	if err != nil {
		return err
	}
	r := resolver{namespaces: namespaces, paths: targets}
	perCall := s.itemsPerCall(ctx)
	for interval, nodes := range byInterval {
		sub, err := s.subscription(ctx, interval)
		if err != nil {
			return err
		}
		reqs, idx := s.itemRequests(nodes, r, res)
		if err := s.createChunks(ctx, sub.SubscriptionID, reqs, idx, perCall, res); err != nil {
			return err
		}
	}
	return nil
}

// subscription returns the data subscription of a publishing interval,
// creating it when there is none.
func (s *session) subscription(ctx context.Context, interval time.Duration) (*opcua.Subscription, error) {
	if sub := s.subs[interval]; sub != nil {
		return sub, nil
	}
	sub, err := s.ua.Subscribe(ctx, s.subscriptionParams(interval), s.notify)
	if err != nil {
		return nil, fmt.Errorf("create subscription (publishing interval %s): %w", interval, err)
	}
	keepAlive := sub.RevisedPublishingInterval * time.Duration(sub.RevisedMaxKeepAliveCount)
	s.watchdog = max(s.watchdog, s.watchdogLimit(keepAlive))
	s.subs[interval] = sub
	return sub, nil
}

// modifyItems changes the sampling interval, queue size and filter of the
// nodes' items, keeping their queues.
func (s *session) modifyItems(ctx context.Context, nodes []int) error {
	byInterval := map[time.Duration][]int{}
	for _, j := range nodes {
		iv := s.c.nodes[j].spec.PublishingInterval
		byInterval[iv] = append(byInterval[iv], j)
	}
	for interval, nodes := range byInterval {
		sub := s.subs[interval]
		if sub == nil {
			continue // its items were created with none: cannot happen
		}
		req := &ua.ModifyMonitoredItemsRequest{SubscriptionID: sub.SubscriptionID, TimestampsToReturn: ua.TimestampsToReturnBoth}
		for _, j := range nodes {
			n := &s.c.nodes[j]
			req.ItemsToModify = append(req.ItemsToModify, &ua.MonitoredItemModifyRequest{
				MonitoredItemID: s.itemIDs[j],
				RequestedParameters: &ua.MonitoringParameters{ClientHandle: n.handle,
					SamplingInterval: ms(n.spec.SamplingInterval), Filter: n.filter, QueueSize: n.spec.QueueSize, DiscardOldest: true},
			})
		}
		var resp *ua.ModifyMonitoredItemsResponse
		err := s.ua.Send(ctx, req, func(v ua.Response) error {
			r, ok := v.(*ua.ModifyMonitoredItemsResponse)
			if !ok {
				return fmt.Errorf("unexpected response %T", v)
			}
			resp = r
			return nil
		})
		if err == nil && len(resp.Results) != len(nodes) {
			err = fmt.Errorf("%d results for %d items", len(resp.Results), len(nodes))
		}
		if err != nil {
			return fmt.Errorf("modify monitored items: %w", err)
		}
		for k, r := range resp.Results {
			status := ua.StatusBad
			if r != nil {
				status = r.StatusCode
			}
			if isGood(status) {
				status = ua.StatusOK
			}
			s.c.itemResult(nodes[k], status, "modification rejected by the server")
		}
	}
	return nil
}

// deleteItems deletes items of the subscription of a publishing interval.
// An item the server no longer has is gone as wanted.
func (s *session) deleteItems(ctx context.Context, interval time.Duration, ids []uint32) error {
	sub := s.subs[interval]
	if sub == nil {
		return nil
	}
	req := &ua.DeleteMonitoredItemsRequest{SubscriptionID: sub.SubscriptionID, MonitoredItemIDs: ids}
	err := s.ua.Send(ctx, req, func(v ua.Response) error {
		if _, ok := v.(*ua.DeleteMonitoredItemsResponse); !ok {
			return fmt.Errorf("unexpected response %T", v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %d monitored items: %w", len(ids), err)
	}
	return nil
}

// dropEmptySubscriptions deletes the data subscriptions of publishing
// intervals no node has any more.
func (s *session) dropEmptySubscriptions(ctx context.Context) error {
	inUse := map[time.Duration]bool{}
	for _, g := range s.c.groups {
		inUse[g.interval] = true
	}
	for interval, sub := range s.subs {
		if inUse[interval] {
			continue
		}
		if err := sub.Cancel(ctx); err != nil {
			return fmt.Errorf("delete subscription (publishing interval %s): %w", interval, err)
		}
		delete(s.subs, interval)
	}
	return nil
}

// resubscribeEvents deletes the event subscriptions and subscribes to the
// event sources afresh, as a new session does.
func (s *session) resubscribeEvents(ctx context.Context) error {
	for _, sub := range s.eventSubs {
		if err := sub.Cancel(ctx); err != nil {
			return fmt.Errorf("delete event subscription: %w", err)
		}
	}
	s.eventSubs = nil
	var res subscribed
	if err := s.subscribeEvents(ctx, s.ua.Namespaces(), &res); err != nil {
		return err
	}
	s.conditionRefresh(ctx, res.eventSubs)
	return nil
}

// recount sets the item counters from the items' last results.
func (s *session) recount() {
	ok, failed := 0, 0
	for _, st := range s.c.itemStatus {
		if st == ua.StatusOK {
			ok++
		} else {
			failed++
		}
	}
	for _, st := range s.c.eventStatus {
		if st == ua.StatusOK {
			ok++
		} else {
			failed++
		}
	}
	s.c.stats.update(func(st *Stats) { st.ItemsOK, st.ItemsFailed = ok, failed })
}

// mark puts the update's marker on the notification channel after
// markerDelay.
func (s *session) mark(ctx context.Context, gen int) {
	if !sleep(ctx, markerDelay) {
		return
	}
	select {
	case s.notify <- &opcua.PublishNotificationData{Value: updateDone{gen: gen}}:
	case <-ctx.Done():
	}
}

// readers are the session's cyclic readers (readmode.go), stopped and
// started again when an update changes the cyclic reads.
type readers struct {
	parent  context.Context // serve's
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	perRead int // the server's MaxNodesPerRead, read once per session
}

// stop ends the readers and waits for them.
func (r *readers) stop() {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
}
