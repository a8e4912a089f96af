package opcua

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

// DefaultMaxPathsPerCall is the chunk size of TranslateBrowsePathsToNodeIds
// when the server does not publish MaxNodesPerTranslateBrowsePathsToNodeIds
// (or it is 0).
const DefaultMaxPathsPerCall = 1000

// searchedNS marks a segment whose namespace is searched for at connect.
const searchedNS = -1

// pathTarget is what a node's browse path resolved to at this connect: a
// node id and the namespace index of each segment, or the status and reason
// it did not resolve.
type pathTarget struct {
	id     *ua.NodeID
	ns     []int
	status ua.StatusCode
	reason string
}

// pathJob is one browse path being resolved: the node's index and the
// namespace index of each segment (searchedNS while unknown).
type pathJob struct {
	node int
	path BrowsePath
	ns   []int
}

// resolvePaths resolves the browse path of every path node with
// TranslateBrowsePathsToNodeIds, in chunks the server accepts. A path that
// does not resolve fails on its own (its pathTarget says why); only a
// failed service call fails the session.
func (s *session) resolvePaths(ctx context.Context, namespaces []string) (map[int]pathTarget, error) {
	paths := map[int]BrowsePath{}
	for i := range s.c.nodes {
		if p := s.c.nodes[i].path; p != nil {
			paths[i] = *p
		}
	}
	return s.translatePaths(ctx, paths, namespaces)
}

// translatePaths resolves paths (by any key) against the server.
func (s *session) translatePaths(ctx context.Context, paths map[int]BrowsePath, namespaces []string) (map[int]pathTarget, error) {
	out := map[int]pathTarget{}
	var jobs []pathJob
	for _, i := range slices.Sorted(maps.Keys(paths)) {
		ns, err := segmentNamespaces(paths[i], namespaces)
		if err != nil {
			out[i] = pathTarget{status: ua.StatusBadNoMatch, reason: err.Error()}
			continue
		}
		jobs = append(jobs, pathJob{node: i, path: paths[i], ns: ns})
	}
	if len(jobs) == 0 {
		return out, nil
	}
	t := translator{s: s, perCall: s.pathsPerCall(ctx)}
	cands, err := t.candidates(ctx, jobs, len(namespaces))
	if err != nil {
		return nil, err
	}
	return out, t.resolve(ctx, jobs, cands, out)
}

// segmentNamespaces returns the namespace index of each segment of p, with
// searchedNS for those the client must search for (see BrowsePath).
func segmentNamespaces(p BrowsePath, namespaces []string) ([]int, error) {
	ns := make([]int, len(p.Segments))
	searched := p.searched()
	for i, seg := range p.Segments {
		switch {
		case seg.NamespaceURI != "":
			k := slices.Index(namespaces, seg.NamespaceURI)
			if k < 0 {
				return nil, fmt.Errorf("namespace %q (segment %d) is not in the server's NamespaceArray", seg.NamespaceURI, i+1)
			}
			ns[i] = k
		case i == 0:
			ns[i] = 0
		case i <= searched:
			ns[i] = searchedNS
		default:
			ns[i] = ns[i-1]
		}
	}
	return ns, nil
}

// translator sends TranslateBrowsePathsToNodeIds calls for one session.
type translator struct {
	s       *session
	perCall int
}

// prefixKey names the first two segments of a searched path: every path
// that starts with them shares the namespaces found for the second.
func prefixKey(p BrowsePath) [2]string {
	return [2]string{p.Segments[0].Name, p.Segments[1].Name}
}

// candidates finds, for each distinct start of a searched path (the first
// segment and the first searched one), the namespaces in which that start
// exists: one cheap call per start and namespace instead of one per path
// and namespace.
func (t translator) candidates(ctx context.Context, jobs []pathJob, nsCount int) (map[[2]string][]int, error) {
	var keys [][2]string
	var paths []*ua.BrowsePath
	seen := map[[2]string]bool{}
	for _, j := range jobs {
		if j.path.searched() == 0 || seen[prefixKey(j.path)] {
			continue
		}
		k := prefixKey(j.path)
		seen[k] = true
		for ns := range nsCount {
			keys = append(keys, k)
			paths = append(paths, browsePath(j.path.Segments[:2], []int{j.ns[0], ns}))
		}
	}
	results, err := t.translate(ctx, paths)
	if err != nil {
		return nil, err
	}
	cands := map[[2]string][]int{}
	for i, r := range results {
		if isGood(r.StatusCode) && len(r.Targets) > 0 {
			cands[keys[i]] = append(cands[keys[i]], i%nsCount)
		}
	}
	return cands, nil
}

// resolve translates every job's full path, once per candidate namespace of
// its searched segments, and records the outcome of each in out.
func (t translator) resolve(ctx context.Context, jobs []pathJob, cands map[[2]string][]int, out map[int]pathTarget) error {
	var owners []int  // index into jobs of each path sent
	var tried [][]int // its namespace per segment
	var paths []*ua.BrowsePath
	for j, job := range jobs {
		tries := []int{searchedNS}
		if job.path.searched() > 0 {
			tries = cands[prefixKey(job.path)]
		}
		for _, ns := range tries {
			owners, tried = append(owners, j), append(tried, fill(job.ns, ns))
			paths = append(paths, browsePath(job.path.Segments, tried[len(tried)-1]))
		}
	}
	results, err := t.translate(ctx, paths)
	if err != nil {
		return err
	}
	byJob := make([][]*ua.BrowsePathResult, len(jobs))
	nsOf := make([][][]int, len(jobs))
	for i, r := range results {
		byJob[owners[i]] = append(byJob[owners[i]], r)
		nsOf[owners[i]] = append(nsOf[owners[i]], tried[i])
	}
	for j, job := range jobs {
		tg, k := target(job.path, byJob[j])
		if k >= 0 {
			tg.ns = nsOf[j][k]
		}
		out[job.node] = tg
	}
	return nil
}

// fill returns ns with its searched segments set to k.
func fill(ns []int, k int) []int {
	out := slices.Clone(ns)
	for i := range out {
		if out[i] == searchedNS {
			out[i] = k
		}
	}
	return out
}

// target judges the results of one path's tries: it resolves when exactly
// one node in this server answers to it; k is the index of the try that
// found it, or -1.
func target(p BrowsePath, results []*ua.BrowsePathResult) (t pathTarget, k int) {
	var ids []*ua.NodeID
	k = -1
	first := ua.StatusOK // the first failure's status
	for i, r := range results {
		if !isGood(r.StatusCode) {
			if first == ua.StatusOK {
				first = r.StatusCode
			}
			continue
		}
		for _, tg := range r.Targets {
			if tg.TargetID != nil && tg.TargetID.ServerIndex == 0 && tg.RemainingPathIndex == ^uint32(0) {
				ids, k = append(ids, tg.TargetID.NodeID), i
			}
		}
	}
	switch {
	case len(ids) == 1:
		return pathTarget{id: ids[0]}, k
	case len(ids) > 1:
		return pathTarget{status: ua.StatusBadBrowseNameDuplicated,
			reason: fmt.Sprintf("browse path %s names %d nodes; qualify its segments with nsu=<namespace URI>; to pick one", p, len(ids))}, -1
	}
	if isGood(first) {
		first = ua.StatusBadNoMatch // no try at all, or Good without a local target
	}
	return pathTarget{status: first, reason: fmt.Sprintf("browse path %s does not resolve on this server", p)}, -1
}

// browsePath builds the request element for segments with namespace ns[i],
// from the Root folder, following hierarchical references forward.
func browsePath(segs []PathSegment, ns []int) *ua.BrowsePath {
	elems := make([]*ua.RelativePathElement, len(segs))
	for i, seg := range segs {
		elems[i] = &ua.RelativePathElement{
			ReferenceTypeID: ua.NewNumericNodeID(0, id.HierarchicalReferences),
			IncludeSubtypes: true,
			TargetName:      &ua.QualifiedName{NamespaceIndex: uint16(ns[i]), Name: seg.Name},
		}
	}
	return &ua.BrowsePath{
		StartingNode: ua.NewNumericNodeID(0, id.RootFolder),
		RelativePath: &ua.RelativePath{Elements: elems},
	}
}

// translate sends paths in chunks of perCall and returns one result per
// path, in order.
func (t translator) translate(ctx context.Context, paths []*ua.BrowsePath) ([]*ua.BrowsePathResult, error) {
	out := make([]*ua.BrowsePathResult, 0, len(paths))
	for chunk := range slices.Chunk(paths, t.perCall) {
		var resp *ua.TranslateBrowsePathsToNodeIDsResponse
		err := t.s.ua.Send(ctx, &ua.TranslateBrowsePathsToNodeIDsRequest{BrowsePaths: chunk}, func(v ua.Response) error {
			r, ok := v.(*ua.TranslateBrowsePathsToNodeIDsResponse)
			if !ok {
				return fmt.Errorf("unexpected response %T", v)
			}
			resp = r
			return nil
		})
		if err == nil && len(resp.Results) != len(chunk) {
			err = fmt.Errorf("%d results for %d paths", len(resp.Results), len(chunk))
		}
		if err != nil {
			return nil, fmt.Errorf("translate browse paths: %w", err)
		}
		for _, r := range resp.Results {
			if r == nil {
				r = &ua.BrowsePathResult{StatusCode: ua.StatusBadUnexpectedError}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// pathsPerCall is the chunk size of TranslateBrowsePathsToNodeIds: the
// server's MaxNodesPerTranslateBrowsePathsToNodeIds (i=11712).
func (s *session) pathsPerCall(ctx context.Context) int {
	limit, err := s.readUint32(ctx, id.Server_ServerCapabilities_OperationLimits_MaxNodesPerTranslateBrowsePathsToNodeIDs)
	if err != nil || limit == 0 {
		return DefaultMaxPathsPerCall
	}
	return int(min(limit, 1<<20))
}
