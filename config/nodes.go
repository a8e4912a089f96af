package config

import "strings"

// NodeRef is one configured node with its place in the plant and every
// default already applied: what the OPC UA client subscribes to.
type NodeRef struct {
	// Name is the reading's full path: [site/]line/station/node.
	Name    string
	Server  string
	Line    string
	Station string
	// Node holds the node's settings with the server's defaults filled in:
	// PublishingInterval, QueueSize and Trigger are never zero;
	// SamplingInterval is zero only when the server's sampling_interval was
	// written as "0s" (as fast as the server can).
	Node Node
}

// Nodes returns every node of every line, in file order, for the server
// named server ("" for all servers). Call it on a config whose defaults have
// been applied.
func (c *Config) Nodes(server string) []NodeRef {
	var refs []NodeRef
	for _, line := range c.Lines {
		for _, st := range line.Stations {
			srv := c.stationServer(st)
			if server != "" && srv.Name != server {
				continue
			}
			for _, n := range st.Nodes {
				refs = append(refs, NodeRef{
					Name:    c.readingName(line.Name, st.Name, n.Name),
					Server:  srv.Name,
					Line:    line.Name,
					Station: st.Name,
					Node:    withServerDefaults(n, srv),
				})
			}
		}
	}
	return refs
}

func (c *Config) readingName(line, station, node string) string {
	parts := []string{line, station, node}
	if c.Bridge.Site != "" {
		parts = append([]string{c.Bridge.Site}, parts...)
	}
	return strings.Join(parts, "/")
}

// stationServer returns the server a station's nodes live on: the named one,
// or the only one when the station names none.
func (c *Config) stationServer(st Station) Server {
	for _, s := range c.Servers {
		if s.Name == st.Server || (st.Server == "" && len(c.Servers) == 1) {
			return s
		}
	}
	return Server{Name: st.Server}
}

func withServerDefaults(n Node, s Server) Node {
	if n.PublishingInterval == 0 {
		n.PublishingInterval = s.PublishingInterval
	}
	if n.SamplingInterval == 0 {
		n.SamplingInterval = s.SamplingInterval
	}
	if n.QueueSize == 0 {
		n.QueueSize = s.QueueSize
	}
	if n.Trigger == "" {
		n.Trigger = DefaultTrigger
	}
	return withServerAcquisition(n, s)
}
