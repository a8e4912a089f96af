package config

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"factorybridge/opcua"
)

var (
	triggers  = opcua.Triggers
	deadbands = opcua.Deadbands
)

// lineChecker carries what the line rules need across lines and stations.
type lineChecker struct {
	checker
	c        *Config
	servers  []string
	readings map[string]string // full reading name → path of its first node
	nodes    int
}

func (v checker) lines(c *Config) {
	v.templates(c)
	lc := &lineChecker{checker: v, c: c, readings: map[string]string{}}
	for _, s := range c.Servers {
		if s.Name != "" && !slices.Contains(lc.servers, s.Name) {
			lc.servers = append(lc.servers, s.Name)
		}
	}
	seen := map[string]string{}
	for i, l := range c.Lines {
		path := fmt.Sprintf("lines[%d]", i)
		named := v.name(path+".name", l.Name) && v.unique(path+".name", l.Name, seen)
		lc.line(path, l, named)
	}
	if lc.nodes == 0 {
		v.r.add("lines", "no nodes configured (valid: at least one [[lines]] with [[lines.stations]] and [[lines.stations.nodes]])")
	}
}

// line checks one line's stations; named reports that the line's own name
// is valid and unique, which reading names need.
func (lc *lineChecker) line(path string, l Line, named bool) {
	seen := map[string]string{}
	for j, st := range l.Stations {
		spath := fmt.Sprintf("%s.stations[%d]", path, j)
		ok := lc.name(spath+".name", st.Name) && lc.unique(spath+".name", st.Name, seen)
		lc.stationServer(spath+".server", st.Server)
		for k, n := range st.Nodes {
			npath := fmt.Sprintf("%s.nodes[%d]", spath, k)
			if lc.node(npath, n) && named && ok {
				lc.reading(npath+".name", lc.c.readingName(l.Name, st.Name, n.Name))
			}
		}
		lc.nodes += len(st.Nodes)
		lc.stationAcquisition(spath, l.Name, st, named && ok)
	}
}

func (lc *lineChecker) stationServer(path, server string) {
	valid := strings.Join(lc.servers, ", ")
	switch {
	case server == "" && len(lc.c.Servers) > 1:
		lc.r.add(path, "required when there are several servers (valid: %s)", valid)
	case server != "" && !slices.Contains(lc.servers, server):
		lc.r.add(path, "%q is not a configured server (valid: %s)", server, valid)
	}
}

func (lc *lineChecker) reading(path, name string) {
	if first, ok := lc.readings[name]; ok {
		lc.r.add(path, "duplicate reading name %q (first at %s)", name, lc.r.lineOf(first))
		return
	}
	lc.readings[name] = path
}

// node checks one node and reports whether its name is valid.
func (v checker) node(path string, n Node) bool {
	named := v.name(path+".name", n.Name)
	v.nodeAddress(path, n)
	v.notNegative(path+".publishing_interval", n.PublishingInterval)
	v.notNegative(path+".sampling_interval", n.SamplingInterval)
	if n.Trigger != "" {
		v.oneOf(path+".trigger", n.Trigger, "trigger", triggers)
	}
	v.deadband(path, n)
	v.nodeAcquisition(path, n)
	return named
}

func (v checker) deadband(path string, n Node) {
	if n.Deadband != "" && !v.oneOf(path+".deadband", n.Deadband, "deadband", deadbands) {
		return
	}
	x := n.DeadbandValue
	switch {
	case !(x >= 0) || math.IsInf(x, 1):
		v.r.add(path+".deadband_value", "%g is not allowed (valid: a finite number, 0 or more)", x)
	case n.Deadband == "percent" && x > 100:
		v.r.add(path+".deadband_value", "%g is out of range for a percent deadband (valid: 0–100)", x)
	case x != 0 && (n.Deadband == "" || n.Deadband == "none"):
		v.r.add(path+".deadband_value", "set, but deadband is %q (valid: deadband = \"absolute\" or \"percent\")", n.Deadband)
	}
}

// nodeAddress checks that the node has exactly one of id and path, and that
// it is well formed.
func (v checker) nodeAddress(path string, n Node) {
	switch {
	case n.ID != "" && n.Path != "":
		v.r.add(path+".path", "set together with id (valid: either id = a node id, or path = a browse path)")
	case n.Path != "":
		if _, err := opcua.ParseBrowsePath(n.Path); err != nil {
			v.r.add(path+".path", "%q is not a browse path: %v (valid: %s)", n.Path, err, browsePathForm)
		}
	case v.required(path+".id", n.ID, nodeIDForms+`; or path = "Objects/<folder>/…/<variable>" instead of id`):
		if why := checkNodeID(n.ID); why != "" {
			v.r.add(path+".id", "%q is not a node id: %s (valid: %s)", n.ID, why, nodeIDForms)
		}
	}
}

// browsePathForm describes a browse path in messages.
const browsePathForm = `browse names from the Root folder separated by "/", e.g. "Objects/FactoryLine/assembly/Status"; a segment may name its namespace: "nsu=<uri>;<name>"`
