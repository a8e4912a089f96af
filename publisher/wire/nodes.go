package wire

import "factorybridge"

// nodeTable numbers the nodes that the compact bodies of one Packer see,
// and points each at its latest group. A body thus finds a reading's group
// with one lookup of the node's name, here, and needs no index of its own:
// an index per body was cleared for every message and grown again, and
// kept each group's five strings (88 bytes) to compare. The buffer hands a
// node's strings out of its dictionary, so comparing them on a hit mostly
// compares pointers.
type nodeTable struct {
	byName map[string]int32 // a name's latest node
	nodes  []nodeRef
	fills  uint32 // fill numbers handed out (compactBody.fill)
}

// nodeRef is one node: what tells it apart from another of its name, and
// where its latest group is.
type nodeRef struct {
	id, server, line, station string
	sameName                  int32  // an earlier node of the same name; -1: none
	fill                      uint32 // the body fill that made its latest group; 0: none
	group                     int32  // that group, in that fill's groups
}

// maxTableNodes bounds the table. Configured nodes are far fewer, but a
// corrupt buffer may invent names; a full table starts over, which costs
// the bodies being filled only compactness (below).
const maxTableNodes = 1 << 18

func newNodeTable() *nodeTable { return &nodeTable{byName: map[string]int32{}} }

// find returns r's node, adding it when it is new.
func (t *nodeTable) find(r *factorybridge.Reading) int32 {
	latest, ok := t.byName[r.Name]
	if ok {
		for ni := latest; ni >= 0; ni = t.nodes[ni].sameName {
			if t.nodes[ni].is(r) {
				return ni
			}
		}
	} else {
		latest = -1
	}
	if len(t.nodes) >= maxTableNodes {
		t.reset()
		latest = -1
	}
	ni := int32(len(t.nodes))
	t.nodes = append(t.nodes, nodeRef{id: r.NodeID, server: r.Server, line: r.Line, station: r.Station,
		sameName: latest, group: -1})
	t.byName[r.Name] = ni
	return ni
}

// is reports whether r, of the node's name, is of the node.
func (n *nodeRef) is(r *factorybridge.Reading) bool {
	return n.id == r.NodeID && n.server == r.Server && n.line == r.Line && n.station == r.Station
}

// reset forgets every node. Bodies being filled keep their groups, but no
// node points at them any more: a node's next reading there starts a
// second group of the node, which the format allows (a message stays
// valid, only larger).
func (t *nodeTable) reset() {
	clear(t.byName)
	t.nodes = nil
}

// nextFill numbers a body's fill, never 0, so that a node's group found
// through the table belongs to the body's current message.
func (t *nodeTable) nextFill() uint32 {
	t.fills++
	if t.fills == 0 {
		t.fills++
	}
	return t.fills
}
