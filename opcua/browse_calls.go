package opcua

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

// browseChunk browses the children of parents[chunk...] in one Browse call
// and continues every node the server cut short with BrowseNext. again are
// the nodes the server had no continuation point for, to browse later.
func (w *walker) browseChunk(ctx context.Context, parents []item, chunk []int) (refs [][]*ua.ReferenceDescription, again []int, err error) {
	descs := make([]*ua.BrowseDescription, len(chunk))
	for k, i := range chunk {
		descs[k] = &ua.BrowseDescription{
			NodeID:          parents[i].id,
			BrowseDirection: ua.BrowseDirectionForward,
			ReferenceTypeID: ua.NewNumericNodeID(0, id.HierarchicalReferences),
			IncludeSubtypes: true,
			ResultMask:      uint32(ua.BrowseResultMaskAll),
		}
	}
	resp, err := w.s.ua.Browse(ctx, &ua.BrowseRequest{
		RequestedMaxReferencesPerNode: w.b.MaxReferencesPerNode,
		NodesToBrowse:                 descs,
	})
	if err == nil && len(resp.Results) != len(descs) {
		err = fmt.Errorf("%d results for %d nodes", len(resp.Results), len(descs))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("browse: %w", err)
	}
	refs = make([][]*ua.ReferenceDescription, len(chunk))
	cps := map[int][]byte{}
	for k, r := range resp.Results {
		switch {
		case r == nil:
		case r.StatusCode == ua.StatusBadNoContinuationPoints:
			again = append(again, chunk[k])
		case !isGood(r.StatusCode):
			w.s.c.log.Debug("node not browsable", "path", pathString(parents[chunk[k]].path), "status", statusString(r.StatusCode))
		default:
			refs[k] = r.References
			if len(r.ContinuationPoint) > 0 {
				cps[k] = r.ContinuationPoint
			}
		}
	}
	return refs, again, w.browseNext(ctx, refs, cps)
}

// browseNext fetches the rest of the references of the nodes with a
// continuation point. When MaxNodes would be exceeded, or a call fails, it
// releases the points still held, so the server does not keep them until
// the session ends.
func (w *walker) browseNext(ctx context.Context, refs [][]*ua.ReferenceDescription, cps map[int][]byte) error {
	for len(cps) > 0 {
		if w.res.Visited+total(refs) > w.b.MaxNodes {
			w.release(ctx, cps)
			return nil
		}
		keys := slices.Sorted(maps.Keys(cps))
		points := make([][]byte, len(keys))
		for j, k := range keys {
			points[j] = cps[k]
		}
		resp, err := w.s.ua.BrowseNext(ctx, &ua.BrowseNextRequest{ContinuationPoints: points})
		if err == nil && len(resp.Results) != len(points) {
			err = fmt.Errorf("%d results for %d continuation points", len(resp.Results), len(points))
		}
		if err != nil {
			w.release(ctx, cps)
			return fmt.Errorf("browse next: %w", err)
		}
		cps = map[int][]byte{}
		for j, r := range resp.Results {
			if r == nil || !isGood(r.StatusCode) {
				continue // the point is gone: the node's list stays short
			}
			refs[keys[j]] = append(refs[keys[j]], r.References...)
			if len(r.ContinuationPoint) > 0 {
				cps[keys[j]] = r.ContinuationPoint
			}
		}
	}
	return nil
}

func total(refs [][]*ua.ReferenceDescription) int {
	n := 0
	for _, r := range refs {
		n += len(r)
	}
	return n
}

// release tells the server to drop continuation points; a failure only
// leaves them to the end of the session.
func (w *walker) release(ctx context.Context, cps map[int][]byte) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(w.s.c.opts.RequestTimeout, maxCloseTime))
	defer cancel()
	_, err := w.s.ua.BrowseNext(ctx, &ua.BrowseNextRequest{
		ReleaseContinuationPoints: true,
		ContinuationPoints:        slices.Collect(maps.Values(cps)),
	})
	if err != nil {
		w.s.c.log.Debug("release continuation points", "err", err)
	}
}

// readDataTypes reads the DataType attribute of every variable found, in
// chunks of the server's MaxNodesPerRead.
func (w *walker) readDataTypes(ctx context.Context) error {
	var idx []int
	var reads []*ua.ReadValueID
	for i, n := range w.res.Nodes {
		if n.NodeClass != "Variable" {
			continue
		}
		idx = append(idx, i)
		reads = append(reads, &ua.ReadValueID{NodeID: w.ids[i], AttributeID: ua.AttributeIDDataType})
	}
	for start := 0; start < len(reads); start += w.perRead {
		end := min(start+w.perRead, len(reads))
		resp, err := w.s.ua.Read(ctx, &ua.ReadRequest{NodesToRead: reads[start:end], TimestampsToReturn: ua.TimestampsToReturnNeither})
		if err == nil && len(resp.Results) != end-start {
			err = fmt.Errorf("%d results for %d nodes", len(resp.Results), end-start)
		}
		if err != nil {
			return fmt.Errorf("read data types: %w", err)
		}
		for j, r := range resp.Results {
			if r == nil || !isGood(r.Status) || r.Value == nil {
				continue
			}
			if nid, ok := r.Value.Value().(*ua.NodeID); ok {
				w.res.Nodes[idx[start+j]].DataType = dataTypeName(nid, w.namespaces)
			}
		}
	}
	return nil
}

// filterDataTypes keeps, of the variables, those of BrowseOptions.DataTypes.
func (w *walker) filterDataTypes() {
	if len(w.b.DataTypes) == 0 {
		return
	}
	w.res.Nodes = slices.DeleteFunc(w.res.Nodes, func(n BrowsedNode) bool {
		return n.NodeClass == "Variable" && !slices.Contains(w.b.DataTypes, n.DataType)
	})
}

// splitGlob splits a BrowseOptions.Match pattern into names; nil for none.
func splitGlob(pattern string) []string {
	if pattern == "" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(pattern, "/"), "/")
}

// checkGlob reports a malformed pattern.
func checkGlob(pattern string) error {
	for _, p := range splitGlob(pattern) {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("%q: %w", p, err)
		}
	}
	return nil
}

// matchGlob matches names against pat, where "**" stands for any number of
// names. With deeper, it reports instead whether a path that continues
// names by one or more names could match: whether to browse below them.
func matchGlob(pat, names []string, deeper bool) bool {
	switch {
	case len(names) == 0 && deeper:
		return len(pat) > 0
	case len(names) == 0:
		return len(pat) == 0 || pat[0] == "**" && matchGlob(pat[1:], names, false)
	case len(pat) == 0:
		return false
	case pat[0] == "**":
		return matchGlob(pat[1:], names, deeper) || matchGlob(pat, names[1:], deeper)
	}
	ok, _ := path.Match(pat[0], names[0])
	return ok && matchGlob(pat[1:], names[1:], deeper)
}
