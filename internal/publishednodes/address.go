package publishednodes

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"factorybridge/config"
	"factorybridge/opcua"
)

// address is where a node is: an id or a browse path, and the name it
// suggests.
type address struct {
	id, path, name string
}

// address reads Id, ExpandedNodeId and BrowsePath. Id may be left out when
// ExpandedNodeId is set; a BrowsePath is relative to Id, or to the Root
// folder (i=84) without one (docs/opc-publisher/readme.md, OpcNodes).
func (c *converter) address(r *reader) address {
	idv, expv := r.get("Id"), r.get("ExpandedNodeId")
	raw, v, key := r.str("Id"), idv, "Id"
	if exp := r.str("ExpandedNodeId"); exp != "" {
		if raw != "" && exp != raw {
			r.note("ExpandedNodeId", expv, "%q differs from Id: Id used", exp)
		} else if raw == "" {
			raw, v, key = exp, expv, "ExpandedNodeId"
		}
	}
	if elems := r.arr("BrowsePath"); len(elems) > 0 {
		p, name := c.browsePath(r.path+".BrowsePath", raw, elems)
		return address{path: p, name: name}
	}
	if raw == "" {
		c.issue(r.path, r.obj, "neither Id, ExpandedNodeId nor BrowsePath: nothing to subscribe to")
		return address{}
	}
	id, name := c.nodeID(r.path+"."+key, v, raw)
	return address{id: id, name: name}
}

// uriForm is OPC Publisher's own node id form, <namespace uri>#<type>=<id>.
var uriForm = regexp.MustCompile(`^(.+)#([isgb])=(.*)$`)

// nodeID converts one node id to the forms a node map takes. OPC Publisher
// reads NodeId (ns=), ExpandedNodeId (nsu=) and its Uri form
// (docs/opc-publisher/readme.md, "Node Ids"); an id on another server
// (svr=, svu=) cannot be mapped.
func (c *converter) nodeID(path string, v *value, raw string) (id, name string) {
	id = strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(id, "svr=") || strings.HasPrefix(id, "svu="):
		c.issue(path, v, "%q not mapped: it names another server (svr=/svu=)", raw)
		return "", ""
	case strings.HasPrefix(id, "ns=") || strings.HasPrefix(id, "nsu="):
	case uriForm.MatchString(id):
		m := uriForm.FindStringSubmatch(id)
		value, err := url.QueryUnescape(m[3])
		if err != nil {
			value = m[3]
		}
		id = "nsu=" + m[1] + ";" + m[2] + "=" + value
	}
	if err := config.CheckNodeID(id); err != nil {
		c.issue(path, v, "not mapped: %v", err)
		return "", ""
	}
	if strings.HasPrefix(id, "ns=") && !strings.HasPrefix(id, "ns=0;") {
		c.comment("Namespace index: the server may renumber it; prefer nsu=<namespace URI> (factorybridge browse shows it).")
	}
	_, ident, found := strings.Cut(id, ";")
	if !found {
		ident = id
	}
	return id, strings.TrimPrefix(strings.TrimPrefix(ident, "s="), "i=")
}

// browsePath converts a BrowsePath from the Root folder (no Id, i=84) or
// the Objects folder (i=85) into a node map path.
func (c *converter) browsePath(path, start string, elems []*value) (p, name string) {
	var segs []opcua.PathSegment
	switch strings.TrimPrefix(start, "ns=0;") {
	case "", "i=84", "nsu=http://opcfoundation.org/UA/;i=84":
	case "i=85", "nsu=http://opcfoundation.org/UA/;i=85":
		segs = append(segs, opcua.PathSegment{Name: "Objects", NamespaceURI: opcua.NamespaceZero})
	default:
		c.issue(path, elems[0], "not mapped: relative to %s; only paths from the Root (i=84) or Objects (i=85) folder are", start)
		return "", ""
	}
	for i, e := range elems {
		seg, why := pathElement(e)
		if why != "" {
			c.issue(fmt.Sprintf("%s[%d]", path, i), e, "%s not mapped: %s", e.text(), why)
			return "", ""
		}
		segs = append(segs, seg)
	}
	return opcua.ExactPath(segs).String(), segs[len(segs)-1].Name
}

// indexForm is a browse name qualified by a namespace index, "2:Name".
var indexForm = regexp.MustCompile(`^[0-9]+:`)

// pathElement converts one element of a BrowsePath: a browse name,
// unqualified (namespace 0), "nsu=<uri>;<name>", "<uri>#<name>" or
// "<index>:<name>", optionally after "/" or "." (OPC UA's relative path
// syntax, Part 4 A.2). Names may be URL-encoded and "&"-escaped.
func pathElement(e *value) (opcua.PathSegment, string) {
	if e.kind != 's' || e.str == "" {
		return opcua.PathSegment{}, "not a browse name"
	}
	s := strings.TrimPrefix(strings.TrimPrefix(e.str, "/"), ".")
	if strings.HasPrefix(s, "<") {
		return opcua.PathSegment{}, "a reference type other than hierarchical references is not supported"
	}
	seg := opcua.PathSegment{NamespaceURI: opcua.NamespaceZero}
	switch {
	case strings.HasPrefix(s, "nsu="):
		uri, name, ok := strings.Cut(s[len("nsu="):], ";")
		if !ok {
			return seg, "want nsu=<namespace uri>;<name>"
		}
		seg.NamespaceURI, s = uri, name
	case indexForm.MatchString(s):
		if strings.HasPrefix(s, "0:") {
			s = s[2:]
			break
		}
		return seg, "a namespace index cannot be mapped (the server may renumber it): write nsu=<namespace uri>;<name>, or use factorybridge browse -paths"
	case strings.Contains(s, "#"):
		i := strings.LastIndex(s, "#")
		seg.NamespaceURI, s = s[:i], s[i+1:]
	}
	seg.Name = unescape(s)
	if seg.Name == "" {
		return seg, "empty browse name"
	}
	return seg, ""
}

// unescape undoes URL encoding and OPC UA's "&" escapes of a browse name.
func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '&' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
