package opcua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

// Defaults for the zero fields of BrowseOptions.
const (
	DefaultBrowseStart    = "Objects"
	DefaultBrowseDepth    = 10
	DefaultBrowseMaxNodes = 100_000
	// DefaultMaxReferencesPerNode is how many references one Browse or
	// BrowseNext may return per node; a folder with more is continued.
	DefaultMaxReferencesPerNode = 1000
	// DefaultMaxNodesPerBrowse is the chunk size of Browse and Read when the
	// server publishes no MaxNodesPerBrowse or MaxNodesPerRead.
	DefaultMaxNodesPerBrowse = 500
)

// ErrBrowseStart marks a start path that does not resolve.
var ErrBrowseStart = errors.New("browse start not found")

// BrowseOptions say where Browse starts, how far it goes and which nodes
// it returns.
type BrowseOptions struct {
	// Start is the browse path (BrowsePath syntax) of the node to browse
	// below. Empty means DefaultBrowseStart, the Objects folder.
	Start string
	// Depth is how many levels below Start are browsed. Zero means
	// DefaultBrowseDepth.
	Depth int
	// MaxNodes bounds the nodes visited; Browse stops there and says so in
	// BrowseResult.Truncated. Zero means DefaultBrowseMaxNodes.
	MaxNodes int
	// MaxReferencesPerNode is requested of the server per Browse call; a
	// node with more references is continued with BrowseNext. Zero means
	// DefaultMaxReferencesPerNode.
	MaxReferencesPerNode uint32
	// Properties also follows HasProperty references (EURange,
	// EngineeringUnits, …), which are left out by default.
	Properties bool
	// Match, when set, is a glob over the nodes' browse paths (names only,
	// "/" between them): "*" matches within one name, "**" any number of
	// names, "?" one character. "Objects/FactoryLine/*/Status",
	// "**/Status". Empty matches every node.
	Match string
	// NodeClasses are the classes of the nodes returned ("Variable",
	// "Object", "Method", …). None means Variable.
	NodeClasses []string
	// DataTypes, when set, keeps only variables of these data types: names
	// of namespace 0 ("UInt64", "Double") or data type node ids.
	DataTypes []string
	// Progress, when set, is called after each batch of references with
	// the counts so far. It runs on Browse's goroutine.
	Progress func(BrowseProgress)
}

// BrowseProgress is how far a Browse got.
type BrowseProgress struct {
	// Visited counts the nodes seen, Found those that match; Depth is the
	// level being browsed (1 = Start's children).
	Visited, Found, Depth int
}

// BrowseResult is what Browse found.
type BrowseResult struct {
	// Nodes are the matching nodes, level by level, in the server's order
	// within a parent.
	Nodes []BrowsedNode
	// Visited counts every node seen below Start.
	Visited int
	// Truncated reports that MaxNodes stopped the browse: nodes are missing.
	Truncated bool
	// Namespaces is the server's NamespaceArray.
	Namespaces []string
}

// BrowsedNode is one node found by Browse.
type BrowsedNode struct {
	// Path is the node's browse path from the Root folder, each browse
	// name with its namespace URI.
	Path []PathSegment
	// ID is the node id with its namespace by URI (nsu=<uri>;s=…), or in
	// namespace 0 without one (i=2258): stable when the server's namespace
	// indexes change.
	ID string
	// NodeClass is "Variable", "Object", …
	NodeClass string
	// DataType is a variable's data type: a name of namespace 0 ("Double")
	// or a node id; "" for other classes or when it could not be read.
	DataType string
}

// PathString is the node's path as BrowseOptions.Match sees it: names
// separated by "/", unqualified and unescaped.
func (n BrowsedNode) PathString() string {
	names := make([]string, len(n.Path))
	for i, seg := range n.Path {
		names[i] = seg.Name
	}
	return strings.Join(names, "/")
}

// Browse connects to the server of opts (Endpoint, security, identity,
// VerifyServerCert, RequestTimeout; nodes and Sink are not used), walks the
// address space below b.Start level by level along hierarchical references
// and returns the nodes that match b. The Server object and what is below
// it are left out unless b.Start is in it. Every service call is bounded by the
// request timeout and chunked by the server's operation limits; large
// folders are continued with BrowseNext, and the continuation points of a
// browse cut short are released.
func Browse(ctx context.Context, opts Options, b BrowseOptions) (*BrowseResult, error) {
	if err := checkSecurity(&opts); err != nil {
		return nil, fmt.Errorf("server %s: %w", opts.Name, err)
	}
	if err := checkBrowseOptions(&b); err != nil {
		return nil, err
	}
	c := &Client{opts: withDefaults(opts)}
	c.log = c.opts.Logger.With("server", opts.Name)
	s := newSession(c)
	defer s.closeClient(ctx)
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	w, err := newWalker(ctx, s, b)
	if err != nil {
		return nil, err
	}
	return w.run(ctx)
}

// nodeClasses maps the names of BrowseOptions.NodeClasses to OPC UA's.
var nodeClasses = map[string]ua.NodeClass{
	"Object": ua.NodeClassObject, "Variable": ua.NodeClassVariable, "Method": ua.NodeClassMethod,
	"ObjectType": ua.NodeClassObjectType, "VariableType": ua.NodeClassVariableType,
	"ReferenceType": ua.NodeClassReferenceType, "DataType": ua.NodeClassDataType, "View": ua.NodeClassView,
}

// NodeClassNames are the valid values of BrowseOptions.NodeClasses.
var NodeClassNames = []string{"Variable", "Object", "Method", "ObjectType", "VariableType", "ReferenceType", "DataType", "View"}

func checkBrowseOptions(b *BrowseOptions) error {
	if b.Start == "" {
		b.Start = DefaultBrowseStart
	}
	if b.Depth <= 0 {
		b.Depth = DefaultBrowseDepth
	}
	if b.MaxNodes <= 0 {
		b.MaxNodes = DefaultBrowseMaxNodes
	}
	if b.MaxReferencesPerNode == 0 {
		b.MaxReferencesPerNode = DefaultMaxReferencesPerNode
	}
	if len(b.NodeClasses) == 0 {
		b.NodeClasses = []string{"Variable"}
	}
	for _, c := range b.NodeClasses {
		if _, ok := nodeClasses[c]; !ok {
			return fmt.Errorf("unknown node class %q (valid: %s)", c, strings.Join(NodeClassNames, ", "))
		}
	}
	if _, err := ParseBrowsePath(b.Start); err != nil {
		return fmt.Errorf("start %q: %w", b.Start, err)
	}
	if b.Match != "" {
		if err := checkGlob(b.Match); err != nil {
			return fmt.Errorf("match %q: %w", b.Match, err)
		}
	}
	return nil
}

// className is the BrowseOptions name of an OPC UA node class.
func className(c ua.NodeClass) string {
	for name, v := range nodeClasses {
		if v == c {
			return name
		}
	}
	return fmt.Sprint(uint32(c))
}

// formatNodeID writes a node id with its namespace as a URI: nsu=<uri>;s=…,
// or without one in namespace 0; an index the NamespaceArray lacks stays
// ns=<index>.
func formatNodeID(nid *ua.NodeID, namespaces []string) string {
	s := nid.String()
	ns := int(nid.Namespace())
	if ns == 0 || ns >= len(namespaces) {
		return s
	}
	_, rest, _ := strings.Cut(s, ";")
	return "nsu=" + namespaces[ns] + ";" + rest
}

// dataTypeName names a data type: by name in namespace 0, else by id.
func dataTypeName(nid *ua.NodeID, namespaces []string) string {
	if nid.Namespace() == 0 && nid.Type() != ua.NodeIDTypeString {
		if name := id.DataTypeName(nid.IntID()); name != strconv.FormatUint(uint64(nid.IntID()), 10) {
			return name
		}
	}
	return formatNodeID(nid, namespaces)
}
