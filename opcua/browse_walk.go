package opcua

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

// maxCPRetries bounds how often one node is browsed again after the server
// had no continuation point left for it.
const maxCPRetries = 3

// walker is one Browse: the session, the options and what was found.
type walker struct {
	s          *session
	b          BrowseOptions
	namespaces []string
	perBrowse  int // nodes per Browse call
	perRead    int // nodes per Read call
	want       map[ua.NodeClass]bool
	glob       []string
	start      item
	visited    map[string]bool
	res        *BrowseResult
	ids        []*ua.NodeID // of res.Nodes, for reading their data types
}

// item is a node to browse below.
type item struct {
	id    *ua.NodeID
	path  []PathSegment
	class ua.NodeClass
}

func newWalker(ctx context.Context, s *session, b BrowseOptions) (*walker, error) {
	w := &walker{s: s, b: b, namespaces: s.ua.Namespaces(), want: map[ua.NodeClass]bool{},
		visited: map[string]bool{}, glob: splitGlob(b.Match)}
	w.res = &BrowseResult{Namespaces: w.namespaces}
	for _, c := range b.NodeClasses {
		w.want[nodeClasses[c]] = true
	}
	start, err := w.resolveStart(ctx)
	if err != nil {
		return nil, err
	}
	w.start = start
	w.perBrowse = s.limit(ctx, id.Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse, DefaultMaxNodesPerBrowse)
	if cps, err := s.readUint32(ctx, id.Server_ServerCapabilities_MaxBrowseContinuationPoints); err == nil && cps > 0 {
		w.perBrowse = min(w.perBrowse, int(cps)) // each node of a call may need one
	}
	w.perRead = s.limit(ctx, id.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead, DefaultMaxNodesPerBrowse)
	return w, nil
}

// limit reads an operation limit of the server, or returns def.
func (s *session) limit(ctx context.Context, nodeID uint32, def int) int {
	if v, err := s.readUint32(ctx, nodeID); err == nil && v > 0 {
		return int(min(v, 1<<16))
	}
	return def
}

// resolveStart finds the start node and the namespace of each of its
// path's names.
func (w *walker) resolveStart(ctx context.Context) (item, error) {
	p, _ := ParseBrowsePath(w.b.Start) // checked by checkBrowseOptions
	res, err := w.s.translatePaths(ctx, map[int]BrowsePath{0: p}, w.namespaces)
	if err != nil {
		return item{}, err
	}
	t := res[0]
	if t.id == nil {
		why := t.reason
		if why == "" {
			why = "browse path " + p.String() + " does not resolve on this server"
		}
		return item{}, fmt.Errorf("%w: %s (%s)", ErrBrowseStart, why, statusString(t.status))
	}
	path := make([]PathSegment, len(p.Segments))
	for i, seg := range p.Segments {
		path[i] = PathSegment{Name: seg.Name, NamespaceURI: w.namespaces[t.ns[i]]}
	}
	return item{id: t.id, path: path, class: ua.NodeClassObject}, nil
}

// run browses level by level, then reads the data types of the variables
// found and applies the data type filter.
func (w *walker) run(ctx context.Context) (*BrowseResult, error) {
	level := []item{w.start}
	for depth := 1; depth <= w.b.Depth && len(level) > 0 && !w.res.Truncated; depth++ {
		next, err := w.level(ctx, level, depth)
		if err != nil {
			return nil, err
		}
		level = next
	}
	if err := w.readDataTypes(ctx); err != nil {
		return nil, err
	}
	w.filterDataTypes()
	return w.res, nil
}

// level browses the children of every node of one level, in chunks, and
// returns the nodes to browse at the next.
func (w *walker) level(ctx context.Context, parents []item, depth int) ([]item, error) {
	var next []item
	retries := map[int]int{}
	queue := make([]int, len(parents))
	for i := range queue {
		queue[i] = i
	}
	for len(queue) > 0 && !w.res.Truncated {
		n := min(w.perBrowse, len(queue))
		chunk := queue[:n]
		queue = queue[n:]
		refs, again, err := w.browseChunk(ctx, parents, chunk)
		if err != nil {
			return nil, err
		}
		for _, i := range again {
			if retries[i]++; retries[i] > maxCPRetries {
				return nil, fmt.Errorf("browse %s: the server has no continuation points left (BadNoContinuationPoints)", pathString(parents[i].path))
			}
			queue = append(queue, i)
		}
		for k, i := range chunk {
			next = w.visit(parents[i], refs[k], next)
		}
		w.progress(depth)
	}
	return next, nil
}

func (w *walker) progress(depth int) {
	if w.b.Progress != nil {
		w.b.Progress(BrowseProgress{Visited: w.res.Visited, Found: len(w.res.Nodes), Depth: depth})
	}
}

// visit records the children of parent found in refs and returns next with
// those to browse further appended: objects, and variables (which may have
// variables of their own).
func (w *walker) visit(parent item, refs []*ua.ReferenceDescription, next []item) []item {
	for _, ref := range refs {
		child, ok := w.child(parent, ref)
		if !ok {
			continue
		}
		if w.res.Visited++; w.res.Visited > w.b.MaxNodes {
			w.res.Visited--
			w.res.Truncated = true
			return next
		}
		if w.want[child.class] && (w.glob == nil || matchGlob(w.glob, names(child.path), false)) {
			w.res.Nodes = append(w.res.Nodes, BrowsedNode{Path: child.path,
				ID: formatNodeID(child.id, w.namespaces), NodeClass: className(child.class)})
			w.ids = append(w.ids, child.id)
		}
		descend := child.class == ua.NodeClassObject || child.class == ua.NodeClassVariable
		if descend && (w.glob == nil || matchGlob(w.glob, names(child.path), true)) {
			next = append(next, child)
		}
	}
	return next
}

// child makes the item of a forward reference not seen before; ok is
// false for what is skipped: inverse and remote references, properties
// unless asked for, and nodes reached already by another path.
func (w *walker) child(parent item, ref *ua.ReferenceDescription) (item, bool) {
	if ref == nil || !ref.IsForward || ref.NodeID == nil || ref.NodeID.ServerIndex != 0 || ref.BrowseName == nil {
		return item{}, false
	}
	if !w.b.Properties && ref.ReferenceTypeID != nil && ref.ReferenceTypeID.Namespace() == 0 && ref.ReferenceTypeID.IntID() == id.HasProperty {
		return item{}, false
	}
	nid := w.localID(ref.NodeID)
	if nid == nil || w.visited[nid.String()] || isServerObject(nid) {
		return item{}, false
	}
	w.visited[nid.String()] = true
	seg := PathSegment{Name: ref.BrowseName.Name}
	if k := int(ref.BrowseName.NamespaceIndex); k < len(w.namespaces) {
		seg.NamespaceURI = w.namespaces[k]
	}
	path := append(slices.Clip(parent.path), seg)
	return item{id: nid, path: path, class: ref.NodeClass}, true
}

// localID returns the node id of an expanded id, its namespace URI (if it
// carries one) turned into this server's index.
func (w *walker) localID(e *ua.ExpandedNodeID) *ua.NodeID {
	if e.NamespaceURI == "" {
		return e.NodeID
	}
	k := slices.Index(w.namespaces, e.NamespaceURI)
	if k < 0 || e.NodeID == nil {
		return nil
	}
	nid, err := ua.ParseNodeID("ns=" + strconv.Itoa(k) + ";" + stripNamespace(e.NodeID.String()))
	if err != nil {
		return nil
	}
	return nid
}

// stripNamespace drops the "ns=<i>;" of a node id string.
func stripNamespace(s string) string {
	if len(s) > 3 && s[:3] == "ns=" {
		for i := range s {
			if s[i] == ';' {
				return s[i+1:]
			}
		}
	}
	return s
}

func names(path []PathSegment) []string {
	out := make([]string, len(path))
	for i, seg := range path {
		out[i] = seg.Name
	}
	return out
}

func pathString(path []PathSegment) string {
	return BrowsedNode{Path: path}.PathString()
}

// isServerObject reports the Server object (i=2253) below Objects: the
// server's own status and diagnostics, hundreds of variables no node map
// wants. It is browsed only as the start (-start Objects/Server).
func isServerObject(nid *ua.NodeID) bool {
	return nid.Namespace() == 0 && nid.Type() != ua.NodeIDTypeString && nid.IntID() == id.Server
}
