package opcua

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

// Events. Each EventSource is an event monitored item on a notifier (the
// Server object by default) with an EventFilter: the configured fields as
// select clauses, and a where clause OfType(t1) Or OfType(t2) … when event
// types are configured. Event sources get subscriptions of their own, one
// per publishing interval. Every event becomes one ClassEvent entry
// (eventjson.go). A server that rejects some select clauses (open62541
// rejects the whole item when one field is unknown to it, where Part 4
// wants per-field results) gets the item again without them: those fields
// are null in every event, and say so once in the log.

// Defaults of EventSource.
const (
	// DefaultEventNotifier is the Server object, which every server's
	// events reach (Part 3, 7.17).
	DefaultEventNotifier = "i=2253"
	// DefaultEventQueueSize is the queue of an event monitored item: events
	// are bursts (a ConditionRefresh sends every condition at once).
	DefaultEventQueueSize = 1000
)

// DefaultEventFields are the fields of a source that names none.
var DefaultEventFields = []string{"EventId", "EventType", "SourceName", "Time", "Message", "Severity"}

// EventSource is a notifier whose events a station publishes.
type EventSource struct {
	// Name is the events' name downstream: [site/]line/station/<name>.
	Name string
	// Server, Line and Station are copied into every event.
	Server, Line, Station string
	// ID is the notifier's node id (ns=…, nsu=…). Empty means
	// DefaultEventNotifier, the Server object.
	ID string
	// Fields are the fields to select, in order: BaseEventType's
	// (EventId, EventType, SourceNode, SourceName, Time, ReceiveTime,
	// LocalTime, Message, Severity), the condition fields (ConditionName,
	// ConditionClassId, ConditionClassName, BranchId, Retain, EnabledState,
	// Quality, LastSeverity, Comment, ClientUserId, AckedState,
	// ConfirmedState, ActiveState, SuppressedState, ShelvingState,
	// InputNode), a path below one ("ActiveState/Id"), or a field of a
	// server's own event type as nsu=<namespace URI>;<BrowseName>[/…].
	// An event's JSON names each field by its path ("ActiveState/Id",
	// "FaultDuration"). Empty means DefaultEventFields.
	Fields []string
	// Types are event type node ids: only events of these types or their
	// subtypes are delivered. Empty means every event.
	Types []string
	// PublishingInterval picks the source's subscription. Zero means
	// DefaultPublishingInterval.
	PublishingInterval time.Duration
	// QueueSize is the monitored item's queue. Zero means
	// DefaultEventQueueSize.
	QueueSize uint32
	// ConditionRefresh asks the server, after every (re)connect, to send
	// the current state of its conditions (Part 9, ConditionRefresh). A
	// server that cannot is logged once, at info level.
	ConditionRefresh bool
}

// eventSource is an EventSource parsed by New.
type eventSource struct {
	spec   EventSource
	id     idRef
	fields []eventField
	types  []idRef
	// typeField is the index of EventType among fields, or -1: it is then
	// selected last, unseen, to drop ConditionRefresh's marker events.
	typeField int
}

// idRef is a node id as configured: ns=… parsed, or nsu=… resolved at
// every connect (node.resolve).
type idRef = node

// eventField is one select clause: a path of browse names below an event
// of type typeDef (namespace 0). Names of the path are in namespace 0, or
// in the namespace URI given.
type eventField struct {
	name    string // as configured
	key     string // in the event's JSON: the browse path, without nsu=
	typeDef uint32
	uri     string // "" for namespace 0
	path    []string
}

// The event types whose fields the standard names belong to.
var fieldTypes = map[string]uint32{
	"EventId": id.BaseEventType, "EventType": id.BaseEventType, "SourceNode": id.BaseEventType,
	"SourceName": id.BaseEventType, "Time": id.BaseEventType, "ReceiveTime": id.BaseEventType,
	"LocalTime": id.BaseEventType, "Message": id.BaseEventType, "Severity": id.BaseEventType,
	"ConditionClassId": id.ConditionType, "ConditionClassName": id.ConditionType,
	"ConditionName": id.ConditionType, "BranchId": id.ConditionType, "Retain": id.ConditionType,
	"EnabledState": id.ConditionType, "Quality": id.ConditionType, "LastSeverity": id.ConditionType,
	"Comment": id.ConditionType, "ClientUserId": id.ConditionType,
	"AckedState": id.AcknowledgeableConditionType, "ConfirmedState": id.AcknowledgeableConditionType,
	"ActiveState": id.AlarmConditionType, "SuppressedState": id.AlarmConditionType,
	"ShelvingState": id.AlarmConditionType, "InputNode": id.AlarmConditionType,
}

// EventFieldNames are the standard field names Fields accepts (paths below
// them and nsu= fields aside), for configuration to check against.
var EventFieldNames = func() []string {
	names := make([]string, 0, len(fieldTypes))
	for n := range fieldTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}()

// ParseEventField checks a configured event field.
func ParseEventField(s string) error {
	_, err := parseEventField(s)
	return err
}

func parseEventField(s string) (eventField, error) {
	f := eventField{name: s, typeDef: id.BaseEventType}
	rest := s
	if uri, p, ok := strings.Cut(s, ";"); ok && strings.HasPrefix(uri, "nsu=") {
		f.uri, rest = strings.TrimPrefix(uri, "nsu="), p
	}
	f.path, f.key = strings.Split(rest, "/"), rest
	if slices.Contains(f.path, "") {
		return f, fmt.Errorf("event field %q: empty browse name", s)
	}
	if f.uri == "" {
		t, ok := fieldTypes[f.path[0]]
		if !ok {
			return f, fmt.Errorf("event field %q is not a standard field (valid: %s, a path below one, or nsu=<namespace URI>;<BrowseName>)",
				s, strings.Join(EventFieldNames, ", "))
		}
		f.typeDef = t
	}
	return f, nil
}

// parseEventSource fills spec's defaults and parses its ids and fields.
func parseEventSource(spec EventSource) (eventSource, error) {
	if spec.ID == "" {
		spec.ID = DefaultEventNotifier
	}
	if len(spec.Fields) == 0 {
		spec.Fields = DefaultEventFields
	}
	if spec.PublishingInterval <= 0 {
		spec.PublishingInterval = DefaultPublishingInterval
	}
	if spec.QueueSize == 0 {
		spec.QueueSize = DefaultEventQueueSize
	}
	src := eventSource{spec: spec, typeField: -1}
	var err error
	if src.id, err = parseRef(spec.ID); err != nil {
		return src, fmt.Errorf("events %s: notifier: %w", spec.Name, err)
	}
	for i, s := range spec.Fields {
		f, err := parseEventField(s)
		if err != nil {
			return src, fmt.Errorf("events %s: %w", spec.Name, err)
		}
		if s == "EventType" {
			src.typeField = i
		}
		src.fields = append(src.fields, f)
	}
	for _, t := range spec.Types {
		ref, err := parseRef(t)
		if err != nil {
			return src, fmt.Errorf("events %s: event type: %w", spec.Name, err)
		}
		src.types = append(src.types, ref)
	}
	return src, nil
}

// parseRef parses a node id as Node.ID does.
func parseRef(s string) (idRef, error) {
	n, err := parseNode(Node{Name: s, ID: s})
	if err != nil {
		return idRef{}, errors.Unwrap(err) // parseNode's error names the node, the caller names it better
	}
	return n, nil
}

// initEvents parses the event sources and groups them by interval.
func (c *Client) initEvents() error {
	idx := map[time.Duration]int{}
	for k, spec := range c.opts.Events {
		src, err := parseEventSource(spec)
		if err != nil {
			return err
		}
		c.events = append(c.events, src)
		d := src.spec.PublishingInterval
		if _, ok := idx[d]; !ok {
			idx[d] = len(c.eventGroups)
			c.eventGroups = append(c.eventGroups, group{interval: d})
		}
		c.eventGroups[idx[d]].nodes = append(c.eventGroups[idx[d]].nodes, k)
	}
	c.eventStatus = make([]ua.StatusCode, len(c.events))
	return nil
}

// selectClauses returns the select clauses of the fields on says are
// selected, and EventType last when it is not among the fields.
func (src *eventSource) selectClauses(namespaces []string, on []bool) ([]*ua.SimpleAttributeOperand, error) {
	var out []*ua.SimpleAttributeOperand
	for i, f := range src.fields {
		if !on[i] {
			continue
		}
		op, err := f.operand(namespaces)
		if err != nil {
			return nil, err
		}
		out = append(out, op)
	}
	if src.typeField < 0 {
		op, _ := eventField{typeDef: id.BaseEventType, path: []string{"EventType"}}.operand(nil)
		out = append(out, op)
	}
	return out, nil
}

func (f eventField) operand(namespaces []string) (*ua.SimpleAttributeOperand, error) {
	var ns uint16
	if f.uri != "" {
		k := slices.Index(namespaces, f.uri)
		if k < 0 {
			return nil, fmt.Errorf("event field %q: %w", f.name, errNamespaceNotFound)
		}
		ns = uint16(k)
	}
	op := &ua.SimpleAttributeOperand{TypeDefinitionID: ua.NewNumericNodeID(0, f.typeDef), AttributeID: ua.AttributeIDValue}
	for _, name := range f.path {
		op.BrowsePath = append(op.BrowsePath, &ua.QualifiedName{NamespaceIndex: ns, Name: name})
	}
	return op, nil
}

// whereClause returns OfType(t1) Or OfType(t2) …, or an empty filter.
// Elements 0 … n-2 are the Ors, n-1 … 2n-2 the OfTypes; Or k joins OfType k
// with the rest.
func (src *eventSource) whereClause(namespaces []string) (*ua.ContentFilter, error) {
	n := len(src.types)
	cf := &ua.ContentFilter{}
	if n == 0 {
		return cf, nil
	}
	for k := 0; k < n-1; k++ {
		rest := uint32(k + 1)
		if k == n-2 {
			rest = uint32(2*n - 2)
		}
		cf.Elements = append(cf.Elements, &ua.ContentFilterElement{FilterOperator: ua.FilterOperatorOr,
			FilterOperands: []*ua.ExtensionObject{elementOperand(uint32(n - 1 + k)), elementOperand(rest)}})
	}
	for k := range src.types {
		t, err := src.types[k].resolve(namespaces)
		if err != nil {
			return nil, fmt.Errorf("event type %s: %w", src.types[k].spec.ID, err)
		}
		cf.Elements = append(cf.Elements, &ua.ContentFilterElement{FilterOperator: ua.FilterOperatorOfType,
			FilterOperands: []*ua.ExtensionObject{extObject(id.LiteralOperand_Encoding_DefaultBinary, ua.LiteralOperand{Value: ua.MustVariant(t)})}})
	}
	return cf, nil
}

func elementOperand(i uint32) *ua.ExtensionObject {
	return extObject(id.ElementOperand_Encoding_DefaultBinary, ua.ElementOperand{Index: i})
}

func extObject(typeID uint32, v any) *ua.ExtensionObject {
	return &ua.ExtensionObject{EncodingMask: ua.ExtensionObjectBinary,
		TypeID: &ua.ExpandedNodeID{NodeID: ua.NewNumericNodeID(0, typeID)}, Value: v}
}

// createRequest builds the source's monitored item with the fields on says.
func (src *eventSource) createRequest(handle uint32, namespaces []string, on []bool) (*ua.MonitoredItemCreateRequest, error) {
	nid, err := src.id.resolve(namespaces)
	if err != nil {
		return nil, fmt.Errorf("notifier %s: %w", src.spec.ID, err)
	}
	sel, err := src.selectClauses(namespaces, on)
	if err != nil {
		return nil, err
	}
	where, err := src.whereClause(namespaces)
	if err != nil {
		return nil, err
	}
	return &ua.MonitoredItemCreateRequest{
		ItemToMonitor:  &ua.ReadValueID{NodeID: nid, AttributeID: ua.AttributeIDEventNotifier, DataEncoding: &ua.QualifiedName{}},
		MonitoringMode: ua.MonitoringModeReporting,
		RequestedParameters: &ua.MonitoringParameters{
			ClientHandle: handle, QueueSize: src.spec.QueueSize, DiscardOldest: true,
			Filter: extObject(id.EventFilter_Encoding_DefaultBinary, ua.EventFilter{SelectClauses: sel, WhereClause: where}),
		},
	}, nil
}

// keptFields returns which fields to select again after the server
// rejected the item for some of its select clauses, or nil when that would
// not help (no select clause was rejected, or the where clause was).
func (src *eventSource) keptFields(r *ua.MonitoredItemCreateResult, on []bool) []bool {
	if r == nil || r.FilterResult == nil {
		return nil
	}
	efr, ok := r.FilterResult.Value.(*ua.EventFilterResult)
	if !ok || efr == nil {
		return nil
	}
	if efr.WhereClauseResult != nil {
		for _, e := range efr.WhereClauseResult.ElementResults {
			if e != nil && !isGood(e.StatusCode) {
				return nil
			}
		}
	}
	kept, dropped, j := slices.Clone(on), false, 0
	for i := range src.fields {
		if !on[i] {
			continue
		}
		if j < len(efr.SelectClauseResults) && !isGood(efr.SelectClauseResults[j]) {
			kept[i], dropped = false, true
		}
		j++
	}
	if !dropped || !slices.Contains(kept, true) {
		return nil
	}
	return kept
}
