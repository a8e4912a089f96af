package config

import (
	"fmt"

	"factorybridge/opcua"
)

var (
	modes       = opcua.Modes
	readReports = opcua.ReadReports
)

// serverAcquisition checks a server's acquisition defaults and backfill
// bounds.
func (v checker) serverAcquisition(path string, s Server) {
	v.oneOf(path+".mode", s.Mode, "mode", modes)
	v.oneOf(path+".read_report", s.ReadReport, "read report", readReports)
	v.positive(path+".read_interval", s.ReadInterval)
	v.notNegative(path+".heartbeat_interval", s.HeartbeatInterval)
	if s.SkipFirst && s.Backfill {
		v.r.add(path+".skip_first", skipAndBackfill)
	}
	v.atLeast(path+".backfill_max_values", s.BackfillMaxValues, 1, "1 or more")
	v.positive(path+".backfill_max_age", s.BackfillMaxAge)
	v.positive(path+".backfill_timeout", s.BackfillTimeout)
}

const skipAndBackfill = "skip_first and backfill exclude each other: after a gap a backfilled node's first value is data (valid: one of them)"

// nodeAcquisition checks a node's own acquisition settings.
func (v checker) nodeAcquisition(path string, n Node) {
	if n.Mode != "" {
		v.oneOf(path+".mode", n.Mode, "mode", modes)
	}
	if n.ReadReport != "" {
		v.oneOf(path+".read_report", n.ReadReport, "read report", readReports)
	}
	v.notNegative(path+".read_interval", n.ReadInterval)
	if n.HeartbeatInterval != nil {
		v.notNegative(path+".heartbeat_interval", *n.HeartbeatInterval)
	}
}

// stationAcquisition checks what a station's nodes get from their server
// together with their own settings, and its events; named reports that the
// line's and station's names are valid, which the events' name needs.
func (lc *lineChecker) stationAcquisition(path, line string, st Station, named bool) {
	srv := lc.c.stationServer(st)
	for k, n := range st.Nodes {
		lc.effectiveNode(fmt.Sprintf("%s.nodes[%d]", path, k), n, withServerAcquisition(n, srv))
	}
	if st.Events != nil {
		lc.events(path+".events", line, st, srv, named)
	}
}

// effectiveNode checks the combinations a node's own settings and its
// server's defaults make (eff); the server's own are checked with it.
func (lc *lineChecker) effectiveNode(path string, own, n Node) {
	if n.skipFirst() && n.backfill() && (own.SkipFirst != nil || own.Backfill != nil) {
		lc.r.add(path+".backfill", skipAndBackfill)
	}
	if n.Mode == opcua.ModeRead && n.ReadReport == opcua.ReportChange && n.Deadband == "percent" {
		lc.r.add(path+".deadband", "a percent deadband needs the server's EURange and works with subscriptions only (valid: absolute, or mode = \"subscribe\")")
	}
}

// events checks a station's [lines.stations.events].
func (lc *lineChecker) events(path, line string, st Station, srv Server, named bool) {
	ev := st.Events
	if ev.Name != "" && !lc.name(path+".name", ev.Name) {
		named = false
	}
	if named {
		name := ev.Name
		if name == "" {
			name = DefaultEventsName
		}
		lc.reading(path+".name", lc.c.readingName(line, st.Name, name))
	}
	if srv.Mode == opcua.ModeRead {
		lc.r.add(path, "events need a subscription, and the station's server has mode = \"read\" (valid: a server with mode = \"subscribe\"; nodes may still be read with mode = \"read\" each)")
	}
	for _, id := range ev.Sources {
		lc.nodeIDIn(path+".sources", id)
	}
	for _, id := range ev.Types {
		lc.nodeIDIn(path+".types", id)
	}
	for _, f := range ev.Fields {
		if err := opcua.ParseEventField(f); err != nil {
			lc.r.add(path+".fields", "%v", err)
		}
	}
	lc.notNegative(path+".publishing_interval", ev.PublishingInterval)
}

// nodeIDIn checks one node id of a list.
func (v checker) nodeIDIn(path, id string) {
	if why := checkNodeID(id); why != "" {
		v.r.add(path, "%q is not a node id: %s (valid: %s)", id, why, nodeIDForms)
	}
}

// eventTopic checks mqtt.event_topic and that it is a topic of its own.
func (v checker) eventTopic(m MQTT) {
	v.topic("mqtt.event_topic", m.EventTopic)
	if m.EventTopic != "" && (m.EventTopic == m.Topic || m.EventTopic == m.OEETopic) {
		v.r.add("mqtt.event_topic", "%q is also mqtt.topic or mqtt.oee_topic (valid: a template of its own, so that events are told apart)", m.EventTopic)
	}
}
