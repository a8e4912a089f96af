package publishednodes

import (
	"fmt"
	"math"
	"strings"
	"time"

	"factorybridge/config"
)

// Why OpcNodes fields are not mapped, by lower-case key (OpcNodeModel.cs;
// docs/opc-publisher/readme.md, "Configuration Schema").
var nodeReasons = map[string]string{
	"heartbeatinterval":         "heartbeats are not mapped yet: factorybridge sends a value when it changes",
	"heartbeatintervaltimespan": "heartbeats are not mapped yet: factorybridge sends a value when it changes",
	"heartbeatbehavior":         "heartbeats are not mapped yet: factorybridge sends a value when it changes",
	"skipfirst":                 "skip-first is not mapped yet: factorybridge sends the first value the server reports",
	"usecyclicread":             "factorybridge subscribes; cyclic reads are not supported",
	"cyclicreadmaxage":          "factorybridge subscribes; cyclic reads are not supported",
	"cyclicreadmaxagetimespan":  "factorybridge subscribes; cyclic reads are not supported",
	"registernode":              "not needed for subscriptions",
	"fetchdisplayname":          "node names come from DisplayName, DataSetFieldId or the id",
	"datasetclassfieldid":       "an OPC Publisher message setting",
	"topic":                     "factorybridge's topics are [mqtt] topic templates",
	"qualityofservice":          "factorybridge's QoS is [mqtt] qos",
	"triggerednodes":            "triggered nodes are not supported",
	"modelchangehandling":       "model change tracking is not supported",
	"methodmetadata":            "methods are not supported",
	"typedefinitionid":          "an OPC Publisher event setting",
	"indexrange":                "index ranges are not supported: the whole value is read",
	"discardnew":                "factorybridge discards the oldest value when a monitored item's queue is full",
}

// node converts one OpcNodes element; ok is false when the node itself
// cannot be mapped (the returned node then holds only comments).
func (c *converter) node(path string, v *value, d entryDefaults) (n config.MapNode, ok bool) {
	defer c.collect(&n.Comments)()
	if v.kind != 'o' {
		c.issue(path, v, "%s is not a node object: skipped", v.text())
		return n, false
	}
	r := c.reader(path, v)
	skip := r.unsupported()
	addr := c.address(r)
	name := firstOf(r.str("DisplayName"), r.str("DataSetFieldId"), addr.name)
	n.Name, n.ID, n.Path = config.SafeName(name), addr.id, addr.path
	if n.Name != name {
		n.Note = fmt.Sprintf("named %q in OPC Publisher", name)
	}
	n.PublishingInterval = firstDuration(r.interval("OpcPublishingInterval", "OpcPublishingIntervalTimespan"), d.publishing)
	n.SamplingInterval = firstDuration(r.interval("OpcSamplingInterval", "OpcSamplingIntervalTimespan"), d.sampling)
	c.monitoring(r, &n)
	if f, ok := r.number("QueueSize"); ok && f >= 1 && f <= math.MaxUint32 {
		n.QueueSize = uint32(f)
	}
	if v := r.get("DiscardNew"); v != nil && v.kind == 'b' && !v.b {
		r.used["discardnew"] = true // false is factorybridge's behaviour
	}
	r.rest(nodeReasons)
	if skip || n.ID == "" && n.Path == "" {
		what := path
		if name != "" {
			what += fmt.Sprintf(" (%s)", name)
		}
		c.comment(what + ": node not mapped")
		return n, false
	}
	return n, true
}

// unsupported reports what makes the node something factorybridge cannot
// subscribe to: events, or an attribute other than Value.
func (r *reader) unsupported() bool {
	for _, k := range []string{"EventFilter", "ConditionHandling"} {
		if v := r.get(k); v != nil && v.kind != '0' {
			r.note(k, v, "events are not supported (factorybridge subscribes to values)")
			return true
		}
	}
	if v := r.get("AttributeId"); v != nil && v.kind != '0' {
		if !(v.kind == 's' && strings.EqualFold(v.str, "Value") || v.kind == 'n' && v.num.String() == "13") {
			r.note("AttributeId", v, "%s: only the Value attribute is supported", v.text())
			return true
		}
	}
	return false
}

// monitoring maps the data change trigger and the deadband.
func (c *converter) monitoring(r *reader, n *config.MapNode) {
	switch r.enum("DataChangeTrigger", triggerTypes) {
	case "Status":
		n.Trigger = "status"
	case "StatusValueTimestamp":
		n.Trigger = "status_value_timestamp"
	}
	typ := r.enum("DeadbandType", deadbandTypes)
	value, ok := r.number("DeadbandValue")
	switch {
	case typ == "" && ok:
		r.note("DeadbandValue", r.obj.get("DeadbandValue"), "ignored without DeadbandType, as OPC Publisher does")
	case typ == "":
	case typ == "Percent":
		n.Deadband, n.DeadbandValue = "percent", min(max(value, 0), 100) // OPC Publisher clamps it
	default:
		n.Deadband, n.DeadbandValue = "absolute", max(value, 0) // negative means 0
	}
}

// legacyNode converts the oldest form, an entry's NodeId.Identifier.
func (c *converter) legacyNode(path string, v *value, d entryDefaults) (n config.MapNode, ok bool) {
	defer c.collect(&n.Comments)()
	if v.kind != 'o' {
		c.issue(path, v, "%s is not an object: skipped", v.text())
		return n, false
	}
	r := c.reader(path, v)
	id, name := c.nodeID(path+".Identifier", r.obj.get("Identifier"), r.str("Identifier"))
	n.Node = config.Node{Name: config.SafeName(name), ID: id, PublishingInterval: d.publishing, SamplingInterval: d.sampling}
	r.rest(nil)
	return n, id != ""
}

// interval reads a milliseconds member and its Timespan twin; the Timespan
// wins when both are set, as OPC Publisher's documentation says.
func (r *reader) interval(msKey, spanKey string) config.Duration {
	if v := r.get(spanKey); v != nil && v.kind != '0' {
		d, err := parseTimespan(v.str)
		if v.kind == 's' && err == nil {
			return config.Duration(d)
		}
		r.note(spanKey, v, "%s is not a TimeSpan ([d.]hh:mm:ss[.fffffff]): ignored", v.text())
	}
	ms, ok := r.number(msKey)
	switch {
	case !ok:
		return 0
	case ms <= 0:
		r.note(msKey, r.obj.get(msKey), "%g not mapped: a node's 0 means its server's interval in factorybridge; for as fast as the server can, set the server's sampling_interval = \"0s\"", ms)
		return 0
	}
	return config.Duration(time.Duration(ms * float64(time.Millisecond)))
}

func firstDuration(d ...config.Duration) config.Duration {
	for _, v := range d {
		if v != 0 {
			return v
		}
	}
	return 0
}

// parseTimespan parses .NET's TimeSpan text, "[-][d.]hh:mm:ss[.fffffff]".
func parseTimespan(s string) (time.Duration, error) {
	var days, h, m int
	var sec float64
	rest := s
	if i := strings.IndexByte(rest, '.'); i >= 0 && i < strings.IndexByte(rest, ':') {
		if _, err := fmt.Sscanf(rest[:i], "%d", &days); err != nil {
			return 0, err
		}
		rest = rest[i+1:]
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("want hh:mm:ss")
	}
	if _, err := fmt.Sscanf(parts[0]+" "+parts[1]+" "+parts[2], "%d %d %g", &h, &m, &sec); err != nil || h > 23 || m > 59 || sec >= 60 || days < 0 || h < 0 || m < 0 || sec < 0 {
		return 0, fmt.Errorf("want hh:mm:ss in range")
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	return d + time.Duration(sec*float64(time.Second)), nil
}
