package opcua

import (
	"errors"
	"fmt"
	"strings"
)

// NamespaceZero is the URI of OPC UA's own namespace (index 0), where the
// standard folders Objects, Types and Views and the Server object live.
const NamespaceZero = "http://opcfoundation.org/UA/"

// BrowsePath is a node's address by browse names from the Root folder, as
// written in a node map: "Objects/FactoryLine/assembly/Status". A PLC
// program download may renumber node ids; browse names stay, so a path is
// resolved again (TranslateBrowsePathsToNodeIds) at every connect.
//
// Syntax: segments separated by "/"; a segment is a browse name, or
// "nsu=<namespace URI>;<browse name>" where the namespace must be named.
// "&" makes the next character literal ("&/" is a "/" in a name, "&&" an
// "&", "&nsu=" a name that starts with "nsu="). A leading "/" is allowed.
//
// Namespaces: the first segment, when unqualified, is in namespace 0 (the
// Root folder's children Objects, Types and Views are). An unqualified
// segment after a qualified one is in that segment's namespace. The
// unqualified segments between the first and the first qualified one share
// one namespace that the client finds at connect: the one namespace of the
// server in which the whole path resolves. So "Objects/FactoryLine/assembly/Status"
// works without naming the Station namespace, and a path whose names exist
// in two namespaces is reported as ambiguous instead of being guessed.
type BrowsePath struct {
	// Segments are the browse names from the Root folder's child on.
	Segments []PathSegment
}

// PathSegment is one browse name of a BrowsePath.
type PathSegment struct {
	// Name is the browse name's text, unescaped.
	Name string
	// NamespaceURI is the browse name's namespace; "" when the segment is
	// unqualified (see BrowsePath for whose namespace it takes).
	NamespaceURI string
}

// ParseBrowsePath parses a path written as BrowsePath describes.
func ParseBrowsePath(s string) (BrowsePath, error) {
	s = strings.TrimPrefix(s, "/")
	if s == "" {
		return BrowsePath{}, errors.New("empty path")
	}
	var p BrowsePath
	for i := 0; ; i++ {
		seg, rest, err := parseSegment(s)
		if err != nil {
			return BrowsePath{}, fmt.Errorf("segment %d: %w", i+1, err)
		}
		p.Segments = append(p.Segments, seg)
		if rest == "" {
			return p, nil
		}
		s = rest[1:] // the "/"
		if s == "" {
			return BrowsePath{}, fmt.Errorf("segment %d: empty browse name after the last \"/\"", i+2)
		}
	}
}

// parseSegment reads one segment of s; rest starts with the "/" that ends
// it, or is "".
func parseSegment(s string) (seg PathSegment, rest string, err error) {
	if strings.HasPrefix(s, "nsu=") {
		uri, after, ok := strings.Cut(s[len("nsu="):], ";")
		if !ok || uri == "" {
			return seg, "", errors.New(`want nsu=<namespace URI>;<browse name>`)
		}
		seg.NamespaceURI, s = uri, after
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '&' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '&':
			return seg, "", errors.New(`"&" at the end (write "&&" for a literal "&")`)
		case c == '/':
			rest = s[i:]
			i = len(s)
		default:
			b.WriteByte(c)
		}
	}
	if seg.Name = b.String(); seg.Name == "" {
		return seg, "", errors.New(`empty browse name (two "/" in a row?)`)
	}
	return seg, rest, nil
}

// String writes the path back in the syntax ParseBrowsePath reads.
func (p BrowsePath) String() string {
	parts := make([]string, len(p.Segments))
	for i, seg := range p.Segments {
		name := escapeName(seg.Name)
		if seg.NamespaceURI != "" {
			name = "nsu=" + seg.NamespaceURI + ";" + name
		}
		parts[i] = name
	}
	return strings.Join(parts, "/")
}

func escapeName(name string) string {
	name = strings.NewReplacer("&", "&&", "/", "&/").Replace(name)
	if strings.HasPrefix(name, "nsu=") {
		name = "&" + name
	}
	return name
}

// ExactPath returns the path of browse names whose namespaces are known,
// qualified so that it resolves without any search: a segment names its
// namespace unless it is the first one in namespace 0 or has the namespace
// of the segment before it (a second segment is always qualified, since an
// unqualified one there would be searched for).
func ExactPath(names []PathSegment) BrowsePath {
	p := BrowsePath{Segments: make([]PathSegment, len(names))}
	prev := ""
	for i, n := range names {
		seg := PathSegment{Name: n.Name}
		switch {
		case i == 0 && n.NamespaceURI == NamespaceZero:
		case i > 1 && n.NamespaceURI == prev:
		default:
			seg.NamespaceURI = n.NamespaceURI
		}
		p.Segments[i], prev = seg, n.NamespaceURI
	}
	return p
}

// searched reports how many segments after the first take a namespace the
// client must search for: those before the first qualified segment, when
// the first segment is unqualified.
func (p BrowsePath) searched() int {
	n := 0
	if p.Segments[0].NamespaceURI != "" {
		return 0
	}
	for _, seg := range p.Segments[1:] {
		if seg.NamespaceURI != "" {
			break
		}
		n++
	}
	return n
}
