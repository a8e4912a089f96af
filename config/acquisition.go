package config

import (
	"cmp"
	"time"

	"factorybridge/opcua"
)

// Acquisition (docs/acquisition.md): a server's keys set the defaults of
// its nodes (mode, read_interval, read_report, heartbeat_interval,
// skip_first, backfill) and bound its backfill; a node's keys override
// them; a station's [lines.stations.events] table publishes OPC UA events.

// Defaults of the acquisition settings. The components' where they have
// the same default.
const (
	DefaultMode              = opcua.ModeSubscribe
	DefaultReadInterval      = opcua.DefaultReadInterval
	DefaultReadReport        = opcua.ReportCycle
	DefaultBackfillMaxValues = opcua.DefaultBackfillMaxValues
	DefaultBackfillMaxAge    = opcua.DefaultBackfillMaxAge
	DefaultBackfillTimeout   = opcua.DefaultBackfillTimeout
	// DefaultEventsName is the last segment of a station's events' name.
	DefaultEventsName = "events"
)

// StationEvents are the OPC UA events a station publishes, as
// "type":"event" messages on mqtt.event_topic.
type StationEvents struct {
	// Name is the last segment of the events' name,
	// [site/]line/station/<name>. Default DefaultEventsName.
	Name string `toml:"name"`
	// Sources are the node ids of the notifiers to subscribe to (objects
	// with the SubscribeToEvents bit). Default the Server object, i=2253,
	// which every event of the server reaches.
	Sources []string `toml:"sources"`
	// Fields are the event fields to select, in order (opcua.EventSource).
	// Default EventId, EventType, SourceName, Time, Message, Severity.
	Fields []string `toml:"fields"`
	// Types are event type node ids: only events of these types or their
	// subtypes are published. Default every event.
	Types []string `toml:"types"`
	// ConditionRefresh asks the server for the current state of its
	// conditions after every (re)connect; a server without conditions is
	// logged once. Default true.
	ConditionRefresh *bool `toml:"condition_refresh"`
	// PublishingInterval of the events' subscription. Default the server's
	// publishing_interval.
	PublishingInterval Duration `toml:"publishing_interval"`
	// QueueSize of each event monitored item. Default
	// opcua.DefaultEventQueueSize.
	QueueSize uint32 `toml:"queue_size"`
}

func (s *Server) applyAcquisitionDefaults() {
	setDefault(&s.Mode, DefaultMode)
	setDefault(&s.ReadInterval, Duration(DefaultReadInterval))
	setDefault(&s.ReadReport, DefaultReadReport)
	setDefault(&s.BackfillMaxValues, DefaultBackfillMaxValues)
	setDefault(&s.BackfillMaxAge, Duration(DefaultBackfillMaxAge))
	setDefault(&s.BackfillTimeout, Duration(DefaultBackfillTimeout))
}

// withServerAcquisition fills a node's acquisition settings the node does
// not set with its server's; the pointers are then never nil.
func withServerAcquisition(n Node, s Server) Node {
	setDefault(&n.Mode, s.Mode)
	setDefault(&n.ReadInterval, s.ReadInterval)
	setDefault(&n.ReadReport, s.ReadReport)
	if n.HeartbeatInterval == nil {
		n.HeartbeatInterval = &s.HeartbeatInterval
	}
	if n.SkipFirst == nil {
		n.SkipFirst = &s.SkipFirst
	}
	if n.Backfill == nil {
		n.Backfill = &s.Backfill
	}
	return n
}

// heartbeat, skipFirst and backfill read the settings of a node whose
// server defaults were applied, and are zero when they were not.
func (n Node) heartbeat() time.Duration { return deref(n.HeartbeatInterval).D() }
func (n Node) skipFirst() bool          { return deref(n.SkipFirst) }
func (n Node) backfill() bool           { return deref(n.Backfill) }

// readInterval and readReport are the node's read settings in mode
// "read", and zero in mode "subscribe", where they do not apply.
func (n Node) readInterval() time.Duration {
	if n.Mode != opcua.ModeRead {
		return 0
	}
	return n.ReadInterval.D()
}

func (n Node) readReport() string {
	if n.Mode != opcua.ModeRead {
		return ""
	}
	return n.ReadReport
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// backfillOptions are the server's backfill bounds.
func (s *Server) backfillOptions() opcua.BackfillOptions {
	return opcua.BackfillOptions{MaxValues: s.BackfillMaxValues, MaxAge: s.BackfillMaxAge.D(), Timeout: s.BackfillTimeout.D()}
}

// eventSources returns the event sources of the stations on server, one
// per notifier, in file order.
func (c *Config) eventSources(server string) []opcua.EventSource {
	var out []opcua.EventSource
	for _, line := range c.Lines {
		for _, st := range line.Stations {
			srv := c.stationServer(st)
			if st.Events == nil || srv.Name != server {
				continue
			}
			out = append(out, c.stationEventSources(line.Name, st, srv)...)
		}
	}
	return out
}

func (c *Config) stationEventSources(line string, st Station, srv Server) []opcua.EventSource {
	ev := st.Events
	sources := ev.Sources
	if len(sources) == 0 {
		sources = []string{opcua.DefaultEventNotifier}
	}
	base := opcua.EventSource{
		Name:   c.readingName(line, st.Name, cmp.Or(ev.Name, DefaultEventsName)),
		Server: srv.Name, Line: line, Station: st.Name,
		Fields: ev.Fields, Types: ev.Types, QueueSize: ev.QueueSize,
		PublishingInterval: cmp.Or(ev.PublishingInterval, srv.PublishingInterval).D(),
		ConditionRefresh:   ev.ConditionRefresh == nil || *ev.ConditionRefresh,
	}
	out := make([]opcua.EventSource, 0, len(sources))
	for _, id := range sources {
		src := base
		src.ID = id
		out = append(out, src)
	}
	return out
}
