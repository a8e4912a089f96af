// Package publishednodes converts OPC Publisher's configuration file
// (publishednodes.json) into a factorybridge node map.
//
// The format is the one documented in Azure/Industrial-IoT's
// docs/opc-publisher/readme.md ("Configuration Schema") and defined by
// src/Azure.IIoT.OpcUa.Publisher.Models/src/PublishedNodesEntryModel.cs and
// OpcNodeModel.cs: a JSON array of entries (an endpoint with its security,
// credentials and data set writer settings) holding OpcNodes, or, in the
// oldest form, one NodeId.Identifier per entry. Keys are matched without
// regard to case and // and /* */ comments are allowed, as OPC Publisher's
// own example files (publishednodes_2.5.json) have them.
//
// Everything that cannot be mapped is reported as an Issue with its line,
// and written as a comment next to what it belonged to; nothing is dropped
// silently.
package publishednodes

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"factorybridge/config"
)

// Options are the settings the file does not have.
type Options struct {
	// BridgeID and Broker fill [bridge] id and [mqtt] broker. Required.
	BridgeID, Broker string
	// Line names the line of entries without a DataSetWriterGroup; empty
	// means "line1".
	Line string
}

// Issue is one thing of the file that was not mapped, or mapped only in
// part, with where it is.
type Issue struct {
	File string
	Line int
	// Path is the JSON path, "[0].OpcNodes[3].HeartbeatInterval".
	Path string
	Msg  string
}

// String formats the issue as "FILE:LINE: path: message".
func (i Issue) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", i.File, i.Line, i.Path, i.Msg)
}

// Result is a converted file.
type Result struct {
	Map config.NodeMap
	// Issues lists, in file order, what was not mapped.
	Issues []Issue
	// Nodes counts the nodes mapped, Skipped those left out.
	Nodes, Skipped int
}

// ErrNoNodes is returned when no node of the file could be mapped.
var ErrNoNodes = errors.New("no node could be mapped")

// Convert reads the published nodes file data (named file in issues) and
// returns its node map. An error is returned for a file that is not a JSON
// array of entries, with its line, or when no node could be mapped; every
// smaller problem is an Issue.
func Convert(file string, data []byte, o Options) (*Result, error) {
	if o.Line == "" {
		o.Line = "line1"
	}
	root, err := parseJSON(data)
	lines := newLineIndex(data)
	if se := (*syntaxError)(nil); errors.As(err, &se) {
		return nil, fmt.Errorf("%s:%d: %s (check the file with a JSON validator; comments are allowed)", file, lines.line(se.off), se.msg)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if root.kind != 'a' {
		return nil, fmt.Errorf("%s:%d: the file is a JSON %s, not an array of entries (valid: [ { \"EndpointUrl\": …, \"OpcNodes\": [ … ] }, … ])",
			file, lines.line(root.off), kindName(root.kind))
	}
	c := &converter{file: file, lines: lines, o: o, servers: map[serverKey]int{}, stations: map[stationKey]*station{}}
	for i, e := range root.elems {
		c.entry(fmt.Sprintf("[%d]", i), e)
	}
	slices.SortStableFunc(c.res.Issues, func(a, b Issue) int { return a.Line - b.Line })
	if c.res.Nodes == 0 {
		return &c.res, fmt.Errorf("%s: %w (%d skipped; see the issues)", file, ErrNoNodes, c.res.Skipped)
	}
	c.res.Map = c.nodeMap()
	return &c.res, nil
}

func kindName(k byte) string {
	return map[byte]string{'o': "object", 's': "string", 'n': "number", 'b': "boolean", '0': "null", 'a': "array"}[k]
}

// converter holds what the entries build.
type converter struct {
	file     string
	lines    lineIndex
	o        Options
	res      Result
	servers  map[serverKey]int // index in res.Map.Servers
	list     []config.MapServer
	stations map[stationKey]*station
	order    []stationKey // stations in file order
	footer   []string
	sink     *[]string // where issues are written as comments, too
}

// stationKey is a station of a line on a server.
type stationKey struct{ line, name, server string }

// station is a station being built, with the node names it uses.
type station struct {
	config.MapStation
	names map[string]bool
}

// issue records a problem at v, and writes it as a comment where the
// converter is writing comments (the node or station being converted).
func (c *converter) issue(path string, v *value, format string, args ...any) {
	is := Issue{File: c.file, Line: c.lines.line(v.off), Path: path, Msg: fmt.Sprintf(format, args...)}
	c.res.Issues = append(c.res.Issues, is)
	key := path[strings.LastIndexAny(path, ".")+1:]
	c.comment(fmt.Sprintf("%s: %s (%s:%d)", key, is.Msg, c.file, is.Line))
}

// comment writes a comment that is not an issue.
func (c *converter) comment(text string) {
	if c.sink != nil {
		*c.sink = append(*c.sink, text)
	}
}

// collect sends comments to dst until the returned function is called.
func (c *converter) collect(dst *[]string) (restore func()) {
	prev := c.sink
	c.sink = dst
	return func() { c.sink = prev }
}

// reader reads the members of one JSON object and remembers which were
// read, so that the rest can be reported as not mapped.
type reader struct {
	c    *converter
	path string
	obj  *value
	used map[string]bool
}

func (c *converter) reader(path string, obj *value) *reader {
	return &reader{c: c, path: path, obj: obj, used: map[string]bool{}}
}

// get returns the member key (any case) and marks it read.
func (r *reader) get(key string) *value {
	v := r.obj.get(key)
	if v != nil {
		r.used[strings.ToLower(key)] = true
	}
	return v
}

// str returns a string member, "" when absent; another type is an issue.
func (r *reader) str(key string) string {
	v := r.get(key)
	if v == nil || v.kind == '0' {
		return ""
	}
	if v.kind != 's' {
		r.note(key, v, "%s is not a string: ignored", v.text())
		return ""
	}
	return v.str
}

// note records an issue about member key, at v or else at the object.
func (r *reader) note(key string, v *value, format string, args ...any) {
	if v == nil {
		v = r.obj
	}
	r.c.issue(r.path+"."+key, v, "%s", fmt.Sprintf(format, args...))
}

// rest reports every member not read, with the reason reasons gives for
// its key (lower case), or as unknown.
func (r *reader) rest(reasons map[string]string) {
	for _, m := range r.obj.members {
		if r.used[strings.ToLower(m.key)] || m.val.kind == '0' {
			continue
		}
		why, ok := reasons[strings.ToLower(m.key)]
		if !ok {
			why = "not a field OPC Publisher documents; check its spelling"
		}
		r.c.issue(r.path+"."+m.key, m.val, "%s not mapped: %s", m.val.text(), why)
	}
}

// number returns a numeric member (or numeric string), ok false when absent.
func (r *reader) number(key string) (float64, bool) {
	v := r.get(key)
	if v == nil || v.kind == '0' {
		return 0, false
	}
	s := v.str
	if v.kind == 'n' {
		s = v.num.String()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || v.kind != 'n' && v.kind != 's' {
		r.note(key, v, "%s is not a number: ignored", v.text())
		return 0, false
	}
	return f, true
}

// flag returns a boolean member; absent is false.
func (r *reader) flag(key string) bool {
	v := r.get(key)
	if v == nil || v.kind == '0' {
		return false
	}
	if v.kind != 'b' {
		r.note(key, v, "%s is not true or false: ignored", v.text())
		return false
	}
	return v.b
}
