package opcua

import (
	"context"
	"strings"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"factorybridge"
	"factorybridge/publisher/wire"
)

// An event becomes a ClassEvent entry whose Value is a JSON object of the
// configured fields, in order, encoded as readings' values are
// (docs/message-format.md, "Events"): the OPC UA client uses the wire
// package's value encoder for that, which is the one reason it imports it.
// NodeIds are written with their namespace URI (nsu=…) because namespace
// indexes are the server's business; LocalizedText is its text. Time and
// ReceiveTime, when selected, also become the entry's SourceTime and
// ServerTime.

// refreshMarkers are the event types ConditionRefresh brackets its
// condition events with; they carry nothing and are not delivered.
var refreshMarkers = []uint32{id.RefreshStartEventType, id.RefreshEndEventType}

// deliverEvents converts one EventNotificationList and appends it.
func (s *session) deliverEvents(ctx context.Context, l *ua.EventNotificationList) {
	now := s.c.now()
	namespaces := s.ua.Namespaces()
	batch := make([]factorybridge.Reading, 0, len(l.Events))
	for _, ev := range l.Events {
		if ev == nil {
			continue
		}
		k, ok := s.c.eventIndex(ev.ClientHandle)
		if !ok {
			continue
		}
		if r, ok := s.eventReading(k, ev.EventFields, namespaces); ok {
			batch = append(batch, r)
		}
	}
	s.c.stats.update(func(st *Stats) { st.LastData = now; st.Events += uint64(len(batch)) })
	s.appendBatch(ctx, batch)
}

// eventReading builds source k's entry from an event's field values,
// which come in the order of the select clauses the item was created with.
func (s *session) eventReading(k int, values []*ua.Variant, namespaces []string) (factorybridge.Reading, bool) {
	src := &s.c.events[k]
	on := s.eventFields(k)
	if on == nil || len(values) != selected(on, src.typeField < 0) {
		return factorybridge.Reading{}, false
	}
	spec := &src.spec
	r := factorybridge.Reading{Name: spec.Name, Server: spec.Server, Line: spec.Line, Station: spec.Station,
		NodeID: spec.ID, Class: factorybridge.ClassEvent}
	b := append(make([]byte, 0, 256), '{')
	j := 0
	for i, f := range src.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(wire.AppendString(b, f.key), ':')
		if !on[i] {
			b = append(b, "null"...)
			continue
		}
		v := values[j]
		j++
		b = s.appendEventValue(b, v, namespaces)
		r.SourceTime, r.ServerTime = timeField(f.name, "Time", v, r.SourceTime), timeField(f.name, "ReceiveTime", v, r.ServerTime)
		if i == src.typeField && isRefreshMarker(v) {
			return r, false
		}
	}
	if src.typeField < 0 && isRefreshMarker(values[j]) {
		return r, false
	}
	r.Value = factorybridge.TextValue(factorybridge.TypeString, string(append(b, '}')))
	return r, true
}

// selected counts the select clauses: the fields on, and EventType when it
// is selected unseen.
func selected(on []bool, hiddenType bool) int {
	n := 0
	for _, x := range on {
		if x {
			n++
		}
	}
	if hiddenType {
		n++
	}
	return n
}

// timeField returns v's time when the field is named want and holds one,
// else cur.
func timeField(name, want string, v *ua.Variant, cur time.Time) time.Time {
	if name != want || v == nil {
		return cur
	}
	if t, ok := v.Value().(time.Time); ok {
		return t
	}
	return cur
}

func isRefreshMarker(v *ua.Variant) bool {
	if v == nil {
		return false
	}
	n, ok := v.Value().(*ua.NodeID)
	if !ok || n == nil || n.Namespace() != 0 {
		return false
	}
	for _, m := range refreshMarkers {
		if n.IntID() == m {
			return true
		}
	}
	return false
}

// appendEventValue appends one field's value as JSON.
func (s *session) appendEventValue(b []byte, v *ua.Variant, namespaces []string) []byte {
	if v == nil || v.Type() == ua.TypeIDNull {
		return append(b, "null"...)
	}
	switch x := v.Value().(type) {
	case *ua.NodeID:
		return wire.AppendString(b, nodeIDText(x, namespaces))
	case *ua.ExpandedNodeID:
		if x != nil && x.NamespaceURI == "" && x.ServerIndex == 0 {
			return wire.AppendString(b, nodeIDText(x.NodeID, namespaces))
		}
	}
	val, err := convertValue(v, s.c.opts.MaxArrayLen)
	if err != nil {
		return append(b, "null"...)
	}
	return wire.AppendValue(b, &val)
}

// nodeIDText writes a node id with its namespace URI (nsu=…) when it is
// not in namespace 0 and the server's NamespaceArray names it.
func nodeIDText(n *ua.NodeID, namespaces []string) string {
	if n == nil {
		return ""
	}
	s := n.String()
	ns := int(n.Namespace())
	if ns == 0 || ns >= len(namespaces) {
		return s
	}
	if _, ident, ok := strings.Cut(s, ";"); ok {
		return "nsu=" + uriEscaper.Replace(namespaces[ns]) + ";" + ident
	}
	return s
}
