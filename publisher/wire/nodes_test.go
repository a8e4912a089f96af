package wire

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	fb "factorybridge"
)

// nodeVariants returns readings of one name that are of different nodes
// (id, server) or need different node objects (type, class), in random
// order, with seqs 1…n.
func nodeVariants(rng *rand.Rand, n int) []fb.Reading {
	ids, servers := []string{"ns=2;s=a", "ns=3;s=a"}, []string{"plc1", "plc2"}
	types := []fb.Value{fb.IntValue(fb.TypeInt32, 5), fb.FloatValue(fb.TypeDouble, 1.5), {}}
	classes := []fb.Class{fb.ClassReading, fb.ClassHeartbeat, fb.ClassBackfill}
	src := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	rs := make([]fb.Reading, n)
	for i := range rs {
		name := fmt.Sprintf("site/l1/s1/n%d", rng.IntN(3))
		line, station := lineAndStation(name)
		rs[i] = fb.Reading{Seq: uint64(i + 1), Name: name, NodeID: ids[rng.IntN(2)], Server: servers[rng.IntN(2)],
			Line: line, Station: station, Value: types[rng.IntN(3)], Class: classes[rng.IntN(3)],
			SourceTime: src.Add(time.Duration(i) * time.Millisecond)}
	}
	return rs
}

// nodeObject is what tells a compact message's node objects apart.
type nodeObject struct{ Name, ID, Server, Type, Mark string }

// TestCompactGroupsNodesApart: readings of one name but of other nodes,
// types or classes go to node objects of their own, and each message holds
// one node object per node, type and class.
func TestCompactGroupsNodesApart(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	rs := nodeVariants(rng, 3000)
	msgs, rejected := packAll(NewPacker("b", EncodingCompact, 4096), rs)
	if len(rejected) > 0 {
		t.Fatalf("%d readings rejected", len(rejected))
	}
	got := checkMessages(t, msgs, 4096)
	if len(got) != len(rs) {
		t.Fatalf("%d readings in messages, packed %d", len(got), len(rs))
	}
	for _, r := range got {
		if a, b := flatJSON(&r), flatJSON(&rs[r.Seq-1]); a != b {
			t.Fatalf("round trip\n got %s\nwant %s", a, b)
		}
	}
	for i, m := range msgs {
		var env struct{ Nodes []nodeObject }
		if err := json.Unmarshal(m, &env); err != nil {
			t.Fatal(err)
		}
		seen := map[nodeObject]bool{}
		for _, n := range env.Nodes {
			if seen[n] {
				t.Fatalf("message %d holds node object %+v twice", i, n)
			}
			seen[n] = true
		}
	}
}

// TestCompactNodeTableStartsOver: when the node table starts over (full)
// while bodies are filled, and when two bodies share a node (not done by
// the session, which has one builder per node), every body still writes
// what it counts, and its readings decode to what went in.
func TestCompactNodeTableStartsOver(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2))
	rs := nodeVariants(rng, 400)
	pk := NewPacker("b", EncodingCompact, 1<<20)
	a, b := pk.start("a", time.Now()), pk.start("b", time.Now())
	for i := range rs {
		bld := a
		if i%3 == 0 {
			bld = b
		}
		if i == len(rs)/2 {
			pk.nodes.reset()
		}
		if !pk.Add(bld, &rs[i]) {
			t.Fatalf("seq %d refused", rs[i].Seq)
		}
		if c := bld.body.(*compactBody); len(c.appendTo(nil)) != c.size() {
			t.Fatalf("after seq %d: %d bytes written, %d counted", rs[i].Seq, len(c.appendTo(nil)), c.size())
		}
	}
	got := checkMessages(t, [][]byte{pk.Finish(a, nil), pk.Finish(b, nil)}, 1<<20)
	if len(got) != len(rs) {
		t.Fatalf("%d readings in messages, packed %d", len(got), len(rs))
	}
	for _, r := range got {
		if x, y := flatJSON(&r), flatJSON(&rs[r.Seq-1]); x != y {
			t.Fatalf("round trip\n got %s\nwant %s", x, y)
		}
	}
}
