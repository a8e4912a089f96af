package wire

import (
	"math"
	"strconv"

	"factorybridge"
)

// compactBody groups samples by node so names are written once per message.
// Samples and group heads live in two arenas; entries link each group's
// samples in arrival order, so memory is bounded by the message size and
// nothing is copied until the message is assembled. The Packer's node
// table finds a reading's group (nodes.go).
type compactBody struct {
	// base and t0 are the first reading's seq and time (Unix ms): samples
	// carry their differences, which keeps a counter reading near 20 bytes.
	base  uint64
	t0    int64
	nodes *nodeTable
	fill  uint32 // this message's number in nodes (nodeTable.nextFill)
	// arena holds the samples only, back to back, so an entry's start is
	// the previous entry's end; heads holds the groups' heads.
	arena, heads []byte
	entries      []entry
	// bts is each entry's bridge time (ms - t0), noBT where it has none;
	// empty while no entry has one, which is the common case: a packer
	// holds up to a publishing cycle of readings, so entries stay small.
	bts    []int64
	groups []group
	total  int // bytes the groups add to the message
}

// entry is one sample: where its bytes end in the arena, and the next
// sample of its group (-1: none).
type entry struct {
	end, next int32
}

// noBT marks an entry without a bridge time in compactBody.bts.
const noBT = math.MinInt64

// group is one node object: its head (in heads), its first and last
// entries, its node and the node's previous group in the message (a node
// has several when its value type or its readings' class changes), and
// what its bridge_times array needs: the samples, those with a bridge
// time, and the bytes of their numbers. Line and station need no place:
// the node tells them apart.
type group struct {
	headOff, headEnd, first, last int32
	node, sameNode                int32
	n, nBT, btBytes               int32
	typ                           factorybridge.Type
	class                         factorybridge.Class
}

const groupTail = "]}"

// newCompactBody returns a body with a node table of its own; a Packer's
// bodies share the Packer's.
func newCompactBody() *compactBody { return &compactBody{nodes: newNodeTable()} }

// groupOf returns the group of node ni in this message that takes r: the
// same value type and class. The node's latest group is this message's
// when its fill is; checking the group's node too keeps a fill number that
// wrapped around from pointing into another message's groups.
func (c *compactBody) groupOf(ni int32, r *factorybridge.Reading) (int32, bool) {
	ref := &c.nodes.nodes[ni]
	if ref.fill != c.fill {
		return -1, false
	}
	for gi := ref.group; gi >= 0 && int(gi) < len(c.groups) && c.groups[gi].node == ni; gi = c.groups[gi].sameNode {
		if g := &c.groups[gi]; g.typ == r.Value.Type && g.class == r.Class {
			return gi, true
		}
	}
	return -1, false
}

func (c *compactBody) size() int { return c.total }

func (c *compactBody) reset(maxKeep int) {
	if cap(c.arena)+cap(c.heads) > maxKeep {
		c.arena, c.heads, c.entries, c.bts, c.groups = nil, nil, nil, nil, nil
	}
	c.arena, c.heads, c.entries, c.bts, c.groups = emptied(c.arena), emptied(c.heads), emptied(c.entries), emptied(c.bts), emptied(c.groups)
	c.total, c.base, c.t0 = 0, 0, 0
}

// emptied returns s emptied for the next message, or nil when its
// capacity is more than twice what this message needed (growing by append
// leaves less): a message of a topic that was about to be split holds many
// more groups and heads than the messages after it.
func emptied[S ~[]E, E any](s S) S {
	if cap(s) > 2*len(s)+1024 {
		return nil
	}
	return s[:0]
}

func (c *compactBody) tryAdd(r *factorybridge.Reading, room int) bool {
	if len(c.groups) == 0 {
		c.base, c.t0, c.fill = r.Seq, baseMillis(r), c.nodes.nextFill()
	}
	ni := c.nodes.find(r)
	gi, found := c.groupOf(ni, r)
	headMark, off := len(c.heads), len(c.arena)
	extra := 1 // comma between samples
	if !found {
		c.heads = appendGroupHead(c.heads, r)
		extra = len(c.heads) - headMark + len(groupTail)
		if len(c.groups) > 0 {
			extra++ // comma between groups
		}
	}
	c.arena = appendSample(c.arena, r, c.base, c.t0)
	extra += len(c.arena) - off
	var g group // the group as it will be, for the size of its bridge times
	if found {
		g = c.groups[gi]
	}
	bt, hasBT := bridgeMillis(r, c.t0)
	before := g.btSize()
	g.addBT(bt, hasBT)
	extra += g.btSize() - before
	if c.total+extra > room {
		c.arena, c.heads = c.arena[:off], c.heads[:headMark]
		return false
	}
	c.total += extra
	if !found {
		gi = c.newGroup(ni, r, int32(headMark))
	}
	c.link(gi)
	c.setBT(len(c.entries)-1, bt, hasBT)
	c.groups[gi].n, c.groups[gi].nBT, c.groups[gi].btBytes = g.n, g.nBT, g.btBytes
	return true
}

// newGroup starts the group of node ni whose head was just appended at
// headOff, makes it the node's latest, and returns its index.
func (c *compactBody) newGroup(ni int32, r *factorybridge.Reading, headOff int32) int32 {
	gi := int32(len(c.groups))
	ref := &c.nodes.nodes[ni]
	same := int32(-1)
	if ref.fill == c.fill {
		same = ref.group
	}
	c.groups = append(c.groups, group{headOff: headOff, headEnd: int32(len(c.heads)), first: -1, last: -1,
		node: ni, sameNode: same, typ: r.Value.Type, class: r.Class})
	ref.fill, ref.group = c.fill, gi
	return gi
}

// link records the sample just appended to the arena as group gi's last.
func (c *compactBody) link(gi int32) {
	ei := int32(len(c.entries))
	c.entries = append(c.entries, entry{end: int32(len(c.arena)), next: -1})
	g := &c.groups[gi]
	if g.first < 0 {
		g.first = ei
	} else {
		c.entries[g.last].next = ei
	}
	g.last = ei
}

// setBT records entry i's bridge time, if it has one; bts grows only once
// an entry has one.
func (c *compactBody) setBT(i int, bt int64, has bool) {
	if !has && len(c.bts) == 0 {
		return
	}
	for len(c.bts) < i {
		c.bts = append(c.bts, noBT)
	}
	if !has {
		bt = noBT
	}
	c.bts = append(c.bts, bt)
}

// sample returns entry ei's bytes.
func (c *compactBody) sample(ei int32) []byte {
	start := int32(0)
	if ei > 0 {
		start = c.entries[ei-1].end
	}
	return c.arena[start:c.entries[ei].end]
}

func (c *compactBody) appendTo(dst []byte) []byte {
	for gi := range c.groups {
		g := &c.groups[gi]
		if gi > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c.heads[g.headOff:g.headEnd]...)
		for ei := g.first; ei >= 0; ei = c.entries[ei].next {
			if ei != g.first {
				dst = append(dst, ',')
			}
			dst = append(dst, c.sample(ei)...)
		}
		dst = append(dst, ']')
		if g.nBT > 0 {
			dst = c.appendBridgeTimes(dst, g)
		}
		dst = append(dst, '}')
	}
	return dst
}

// appendBridgeTimes appends the group's bridge_times: one entry per sample,
// ms - t0, or null for a sample whose bridge time is its source time.
func (c *compactBody) appendBridgeTimes(dst []byte, g *group) []byte {
	dst = append(dst, bridgeTimesKey...)
	for ei := g.first; ei >= 0; ei = c.entries[ei].next {
		if ei != g.first {
			dst = append(dst, ',')
		}
		if int(ei) < len(c.bts) && c.bts[ei] != noBT {
			dst = strconv.AppendInt(dst, c.bts[ei], 10)
		} else {
			dst = append(dst, "null"...)
		}
	}
	return append(dst, ']')
}

// bridgeTimesKey opens a node's bridge_times; a node without bridge times
// has none, so messages of servers whose clocks are right do not change.
const bridgeTimesKey = `,"bridge_times":[`

// addBT counts one more sample of the group, with its bridge time if any.
func (g *group) addBT(bt int64, has bool) {
	g.n++
	if has {
		g.nBT++
		g.btBytes += int32(len(strconv.AppendInt(nil, bt, 10)))
	}
}

// btSize is the bytes of the group's bridge_times: none while no sample
// has a bridge time, else the key, the numbers, a null for each other
// sample, the commas and the closing bracket.
func (g *group) btSize() int {
	if g.nBT == 0 {
		return 0
	}
	return len(bridgeTimesKey) + int(g.btBytes+4*(g.n-g.nBT)+g.n-1+1)
}
