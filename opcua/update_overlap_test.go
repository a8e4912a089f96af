package opcua

import (
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

// TestOverlapProof feeds the values of a moved node's old item (handle 1)
// and new item (handle 2) in crafted orders: the old item may be deleted
// (done closed) only once both reported a same value, since the values it
// still queues are deleted with it and the new one starts at its creation.
func TestOverlapProof(t *testing.T) {
	const oldH, newH = 1, 2
	type value struct {
		h uint32
		t int64 // source time, s; 0: none
	}
	for _, tc := range []struct {
		name   string
		seen   int64 // the last value received before the update
		values []value
		proven bool
		drops  []int // positions of the values dropped as repeats
	}{
		{"old behind, new ahead", 19, []value{{oldH, 20}, {newH, 23}, {newH, 24}, {oldH, 21}, {oldH, 22}}, false, nil},
		{"old catches up", 19, []value{{oldH, 20}, {newH, 23}, {oldH, 21}, {oldH, 22}, {oldH, 23}}, true, []int{4}},
		{"new repeats the last value", 19, []value{{newH, 19}}, true, []int{0}},
		{"new repeats a value the old sent", 19, []value{{oldH, 20}, {oldH, 21}, {newH, 21}, {newH, 22}}, true, []int{2}},
		{"old only", 19, []value{{oldH, 20}, {oldH, 21}}, false, nil},
		{"new without source time", 19, []value{{newH, 0}}, true, nil},
		{"old without source time", 19, []value{{oldH, 0}}, false, nil},
	} {
		s, wait := movedSession(tc.seen, newH)
		var drops []int
		for k, v := range tc.values {
			dv := &ua.DataValue{Value: ua.MustVariant(uint64(v.t))}
			if v.t != 0 {
				dv.SourceTimestamp = time.Unix(v.t, 0)
			}
			if s.repeated(0, v.h, dv) {
				drops = append(drops, k)
			} else if v.t != 0 {
				s.c.state[0].seen = v.t * 1e9
			}
		}
		if got := closed(wait.done); got != tc.proven {
			t.Errorf("%s: old item deletable = %v, want %v", tc.name, got, tc.proven)
		}
		if !equalInts(drops, tc.drops) {
			t.Errorf("%s: dropped values %v, want %v", tc.name, drops, tc.drops)
		}
	}
}

// TestOverlapProofWaitsForEveryNode: with two moved nodes, the old items
// are deleted only once both overlap.
func TestOverlapProofWaitsForEveryNode(t *testing.T) {
	s, wait := movedSession(5, 2)
	s.c.nodes = append(s.c.nodes, node{})
	s.c.state = append(s.c.state, nodeState{seen: 7e9})
	s.c.state[1].window = newDupWindow(7e9, 3, 10)
	s.c.state[1].window.wait = wait
	wait.left++
	s.c.watched++
	s.repeated(0, 2, &ua.DataValue{SourceTimestamp: time.Unix(5, 0)})
	if closed(wait.done) {
		t.Fatalf("deletable after one of two nodes overlapped")
	}
	s.repeated(1, 3, &ua.DataValue{SourceTimestamp: time.Unix(7, 0)})
	if !closed(wait.done) {
		t.Fatalf("not deletable after both nodes overlapped")
	}
}

// movedSession returns a session with one node (index 0) moved: its window
// holds seen (s) and waits for newHandle's item.
func movedSession(seen int64, newHandle uint32) (*session, *overlaps) {
	c := &Client{nodes: []node{{}}, state: []nodeState{{seen: seen * 1e9, plain: true}}, watched: 1}
	wait := &overlaps{left: 1, done: make(chan struct{})}
	c.state[0].window = newDupWindow(seen*1e9, newHandle, 10)
	c.state[0].window.wait = wait
	return &session{c: c}, wait
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
