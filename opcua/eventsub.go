package opcua

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

// subscribeEvents creates one subscription per publishing interval of the
// event sources, and one monitored item per source.
func (s *session) subscribeEvents(ctx context.Context, namespaces []string, res *subscribed) error {
	for _, g := range s.c.eventGroups {
		if st := s.ua.State(); st != opcua.Connected {
			return fmt.Errorf("connection lost while subscribing (gopcua state %s)", st)
		}
		sub, err := s.ua.Subscribe(ctx, s.subscriptionParams(g.interval), s.notify)
		if err != nil {
			return fmt.Errorf("create event subscription (publishing interval %s): %w", g.interval, err)
		}
		res.keepAlive = max(res.keepAlive, sub.RevisedPublishingInterval*time.Duration(sub.RevisedMaxKeepAliveCount))
		s.eventSubs = append(s.eventSubs, sub)
		refresh := false
		for _, k := range g.nodes {
			refresh = refresh || s.c.events[k].spec.ConditionRefresh
			if err := s.createEventItem(ctx, sub.SubscriptionID, k, namespaces, res); err != nil {
				return err
			}
		}
		if refresh {
			res.eventSubs = append(res.eventSubs, sub.SubscriptionID)
		}
	}
	return nil
}

// createEventItem creates source k's monitored item, and once more without
// the fields the server rejected.
func (s *session) createEventItem(ctx context.Context, subID uint32, k int, namespaces []string, res *subscribed) error {
	src := &s.c.events[k]
	on := make([]bool, len(src.fields))
	for i := range on {
		on[i] = true
	}
	for attempt := 0; ; attempt++ {
		req, err := src.createRequest(s.c.eventHandle(k), namespaces, on)
		if err != nil {
			res.failed++
			s.c.eventResult(k, ua.StatusBadNodeIDUnknown, err.Error())
			return nil
		}
		r, err := s.createOne(ctx, subID, req)
		if err != nil {
			return err
		}
		if isGood(r.StatusCode) {
			res.ok++
			s.setEventFields(k, on)
			s.c.eventResult(k, ua.StatusOK, "")
			return nil
		}
		if kept := src.keptFields(r, on); attempt == 0 && kept != nil {
			s.c.fieldsMissing(k, on, kept)
			on = kept
			continue
		}
		res.failed++
		s.c.eventResult(k, r.StatusCode, "rejected by the server")
		return nil
	}
}

// createOne sends a CreateMonitoredItems call for one item.
func (s *session) createOne(ctx context.Context, subID uint32, item *ua.MonitoredItemCreateRequest) (*ua.MonitoredItemCreateResult, error) {
	req := &ua.CreateMonitoredItemsRequest{SubscriptionID: subID, TimestampsToReturn: ua.TimestampsToReturnBoth,
		ItemsToCreate: []*ua.MonitoredItemCreateRequest{item}}
	var resp *ua.CreateMonitoredItemsResponse
	err := s.ua.Send(ctx, req, func(v ua.Response) error {
		r, ok := v.(*ua.CreateMonitoredItemsResponse)
		if !ok {
			return fmt.Errorf("unexpected response %T", v)
		}
		resp = r
		return nil
	})
	if err == nil && (len(resp.Results) != 1 || resp.Results[0] == nil) {
		err = fmt.Errorf("%d results for 1 item", len(resp.Results))
	}
	if err != nil {
		return nil, fmt.Errorf("create event monitored item: %w", err)
	}
	return resp.Results[0], nil
}

// setEventFields records which fields source k's item selects; the drain
// reads them (eventFields) on another goroutine.
func (s *session) setEventFields(k int, on []bool) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if s.evOn == nil {
		s.evOn = make([][]bool, len(s.c.events))
	}
	s.evOn[k] = on
}

func (s *session) eventFields(k int) []bool {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if s.evOn == nil {
		return nil
	}
	return s.evOn[k]
}

// conditionRefresh asks for the current condition states on each
// subscription (Part 9, 5.5.7). The Debian build of open62541 has no
// alarms and conditions and answers BadInternalError; any failure is
// logged once per client at info level and otherwise ignored: condition
// states then arrive with their next change. It first reads whether the
// method exists: a server without it may answer the Call with a bad
// service result, which gopcua takes for a lost connection.
func (s *session) conditionRefresh(ctx context.Context, subs []uint32) {
	if len(subs) == 0 {
		return
	}
	if _, err := s.readUint32Attr(ctx, id.ConditionType_ConditionRefresh, ua.AttributeIDNodeClass); err != nil {
		s.refreshFailed(err)
		return
	}
	for _, sub := range subs {
		ctx, cancel := context.WithTimeout(ctx, s.c.opts.RequestTimeout)
		r, err := s.ua.Call(ctx, &ua.CallMethodRequest{
			ObjectID:       ua.NewNumericNodeID(0, id.ConditionType),
			MethodID:       ua.NewNumericNodeID(0, id.ConditionType_ConditionRefresh),
			InputArguments: []*ua.Variant{ua.MustVariant(sub)},
		})
		cancel()
		if err == nil && !isGood(r.StatusCode) {
			err = r.StatusCode
		}
		if err == nil {
			s.c.log.Debug("condition refresh requested", "subscription", sub)
			continue
		}
		s.refreshFailed(err)
	}
}

// refreshFailed logs, once per client, that ConditionRefresh is not
// available.
func (s *session) refreshFailed(err error) {
	if !s.c.refreshWarned {
		s.c.refreshWarned = true
		s.c.log.Info("condition refresh not available on this server: condition states arrive with their next change",
			"err", err)
	}
}

// readUint32Attr reads a 32-bit integer attribute (NodeClass is an enum of
// Int32) of a namespace 0 node; a bad result is an error.
func (s *session) readUint32Attr(ctx context.Context, node uint32, attr ua.AttributeID) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.c.opts.RequestTimeout)
	defer cancel()
	res, err := s.ua.Read(ctx, &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{NodeID: ua.NewNumericNodeID(0, node), AttributeID: attr}}})
	if err != nil {
		return 0, err
	}
	if len(res.Results) != 1 || res.Results[0] == nil {
		return 0, fmt.Errorf("%d results for 1 node", len(res.Results))
	}
	if !isGood(res.Results[0].Status) {
		return 0, res.Results[0].Status
	}
	switch v := res.Results[0].Value.Value().(type) {
	case int32:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	}
	return 0, fmt.Errorf("attribute %d is %T", attr, res.Results[0].Value.Value())
}

// eventResult logs source k's item result when it differs from the last
// one logged.
func (c *Client) eventResult(k int, status ua.StatusCode, reason string) {
	if c.eventStatus[k] == status {
		return
	}
	c.eventStatus[k] = status
	src := &c.events[k].spec
	if status == ua.StatusOK {
		c.log.Info("event monitored item recovered", "events", src.Name, "notifier", src.ID)
		return
	}
	c.log.Warn("event monitored item failed", "events", src.Name, "notifier", src.ID,
		"status", statusString(status), "reason", reason)
}

// fieldsMissing logs, once per source, the fields the server rejected.
func (c *Client) fieldsMissing(k int, on, kept []bool) {
	if c.fieldsLogged == nil {
		c.fieldsLogged = make([]bool, len(c.events))
	}
	if c.fieldsLogged[k] {
		return
	}
	c.fieldsLogged[k] = true
	var missing []string
	for i := range on {
		if on[i] && !kept[i] {
			missing = append(missing, c.events[k].fields[i].name)
		}
	}
	c.log.Info("event fields the server does not have are null", "events", c.events[k].spec.Name,
		"fields", strings.Join(missing, ","))
}

// Event sources' client handles: eventHandleBase, the generation of the
// event sources (a live update that changes them starts a new one, so that
// a notification of a replaced source is never taken for another's), and
// the source's index. Nodes' handles stay below eventHandleBase.
const (
	eventHandleBase = 1 << 31
	eventGenBits    = 15
	maxEventSources = 1 << 16
)

// eventHandle is event source k's client handle.
func (c *Client) eventHandle(k int) uint32 {
	return eventHandleBase | (c.evGen%(1<<eventGenBits))<<16 | uint32(k)
}

// eventIndex reports whether handle is an event source's of the current
// generation, and which.
func (c *Client) eventIndex(handle uint32) (int, bool) {
	if handle&eventHandleBase == 0 || (handle>>16)&(1<<eventGenBits-1) != c.evGen%(1<<eventGenBits) {
		return 0, false
	}
	k := int(handle & (maxEventSources - 1))
	return k, k < len(c.events)
}
