package opcua

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

// errNamespaceNotFound marks a node whose nsu= namespace the server does not
// know; the node fails like one the server rejects.
var errNamespaceNotFound = errors.New("namespace URI not in the server's NamespaceArray")

// node is one configured node, parsed once by New or Update.
type node struct {
	spec Node // with its defaults filled
	// handle is the client handle of the node's monitored item (or of its
	// cyclic reads): its index in Client.nodes, until a live update keeps
	// the items of nodes whose index changed (update.go).
	handle uint32
	// id is the parsed id of an ns=… node; nil for an nsu=… node, whose
	// namespace index is looked up at every connect.
	id     *ua.NodeID
	nsURI  string // nsu=<nsURI>;<idPart>
	idPart string
	path   *BrowsePath         // set for a node addressed by browse path
	filter *ua.ExtensionObject // nil: the server's default (status_value, no deadband)
}

// parseNode fills spec's defaults and parses its id and filter; errors name
// the node.
func parseNode(spec Node) (node, error) {
	n := node{spec: spec.withDefaults()}
	var err error
	switch uri, rest, ok := strings.Cut(spec.ID, ";"); {
	case (spec.ID == "") == (spec.Path == ""):
		err = errors.New("set exactly one of id and path")
	case spec.Path != "":
		var p BrowsePath
		p, err = ParseBrowsePath(spec.Path)
		n.path = &p
	case ok && strings.HasPrefix(uri, "nsu="):
		n.nsURI, n.idPart = strings.TrimPrefix(uri, "nsu="), rest
		_, err = ua.ParseNodeID("ns=1;" + rest) // validates the identifier part
	default:
		n.id, err = ua.ParseNodeID(spec.ID)
	}
	if err == nil {
		n.filter, err = dataChangeFilter(n.spec)
	}
	if err != nil {
		return node{}, fmt.Errorf("node %s: %s %q: %w", spec.Name, spec.refKind(), spec.ref(), err)
	}
	return n, nil
}

// ref is how readings and logs name the node: its id, or its path.
func (n *Node) ref() string {
	if n.refKind() == "path" {
		return n.Path
	}
	return n.ID
}

// refKind says what ref is, in messages: "id" or "path".
func (n *Node) refKind() string {
	if n.ID == "" && n.Path != "" {
		return "path"
	}
	return "id"
}

// refKey is the log attribute of ref: "node_id" or "path".
func (n *Node) refKey() string {
	if n.refKind() == "path" {
		return "path"
	}
	return "node_id"
}

// resolve returns the node's id against the server's NamespaceArray.
func (n *node) resolve(namespaces []string) (*ua.NodeID, error) {
	if n.nsURI == "" {
		return n.id, nil
	}
	for i, uri := range namespaces {
		if uri == n.nsURI {
			return ua.ParseNodeID(fmt.Sprintf("ns=%d;%s", i, n.idPart))
		}
	}
	return nil, errNamespaceNotFound
}

// createRequest builds the monitored item for the node's resolved id.
func (n *node) createRequest(nid *ua.NodeID, handle uint32) *ua.MonitoredItemCreateRequest {
	req := opcua.NewMonitoredItemCreateRequestWithDefaults(nid, ua.AttributeIDValue, handle)
	p := req.RequestedParameters
	p.SamplingInterval = ms(n.spec.SamplingInterval) // 0: as fast as the server can
	p.QueueSize = n.spec.QueueSize
	p.DiscardOldest = true
	p.Filter = n.filter
	return req
}

// ms converts to OPC UA's Duration: milliseconds as a float.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

var triggers = map[string]ua.DataChangeTrigger{
	"status":                 ua.DataChangeTriggerStatus,
	"status_value":           ua.DataChangeTriggerStatusValue,
	"status_value_timestamp": ua.DataChangeTriggerStatusValueTimestamp,
}

var deadbands = map[string]uint32{
	"":         uint32(ua.DeadbandTypeNone),
	"none":     uint32(ua.DeadbandTypeNone),
	"absolute": uint32(ua.DeadbandTypeAbsolute),
	"percent":  uint32(ua.DeadbandTypePercent),
}

// dataChangeFilter returns the node's DataChangeFilter, or nil when it asks
// for the server's default, so servers that reject filters on some nodes
// (non-numeric values, simple servers) are only given one when configured.
// n's Trigger is filled (Node.withDefaults).
func dataChangeFilter(n Node) (*ua.ExtensionObject, error) {
	trigger, ok := triggers[n.Trigger]
	if !ok {
		return nil, fmt.Errorf("unknown trigger %q (status, status_value, status_value_timestamp)", n.Trigger)
	}
	deadband, ok := deadbands[n.Deadband]
	if !ok {
		return nil, fmt.Errorf("unknown deadband %q (none, absolute, percent)", n.Deadband)
	}
	if trigger == ua.DataChangeTriggerStatusValue && deadband == uint32(ua.DeadbandTypeNone) {
		return nil, nil
	}
	f := ua.DataChangeFilter{Trigger: trigger, DeadbandType: deadband, DeadbandValue: n.DeadbandValue}
	return &ua.ExtensionObject{
		EncodingMask: ua.ExtensionObjectBinary,
		TypeID:       &ua.ExpandedNodeID{NodeID: ua.NewNumericNodeID(0, id.DataChangeFilter_Encoding_DefaultBinary)},
		Value:        f,
	}, nil
}
