package opcua

import (
	"slices"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

// TestMoveWindow feeds the notifications of a moved node's old item
// (handle 1) and new item (handle 2) in crafted orders to received: every
// value is delivered once and in order, and the old item may be deleted
// (the update's overlaps done) only once both reported a same value, since
// the values it still queues are deleted with it.
func TestMoveWindow(t *testing.T) {
	const oldH, newH = 1, 2
	old := func(ts ...int64) []itemValue { return itemValues(oldH, ts) }
	nu := func(ts ...int64) []itemValue { return itemValues(newH, ts) }
	for _, tc := range []struct {
		name          string
		notifications [][]itemValue
		want          []int64 // source times delivered, in order
		proven        bool
	}{
		{"old publishes more slowly", [][]itemValue{nu(48, 49, 50), old(39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51), nu(51, 52)},
			[]int64{39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52}, true},
		{"old has not caught up", [][]itemValue{nu(48, 49, 50), old(39, 40, 41)}, []int64{39, 40, 41}, false},
		{"old publishes faster", [][]itemValue{old(39, 40), nu(40, 41, 42), old(41, 42, 43), nu(43)},
			[]int64{39, 40, 41, 42, 43}, true},
		{"new repeats the last value", [][]itemValue{nu(38), nu(39)}, []int64{39}, true},
		{"old only", [][]itemValue{old(39, 40)}, []int64{39, 40}, false},
		{"new without source time", [][]itemValue{nu(45), nu(0), nu(46)}, []int64{45, 0, 46}, true},
		{"old without source time", [][]itemValue{old(0), nu(45)}, []int64{0}, false},
	} {
		s, wait := movedSession(38, newH)
		var got []int64
		for _, n := range tc.notifications {
			got = append(got, sourceTimes(s.received(notification(n)))...)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: delivered %v, want %v", tc.name, got, tc.want)
		}
		if proven := closed(wait.done); proven != tc.proven {
			t.Errorf("%s: old item deletable = %v, want %v", tc.name, proven, tc.proven)
		}
	}
}

// TestMoveWindowGiveUp: when the items did not overlap in time, the new
// item's held values are delivered, and then either item's in order.
func TestMoveWindowGiveUp(t *testing.T) {
	s, wait := movedSession(38, 2)
	s.received(notification(itemValues(2, []int64{45, 46})))
	w := s.c.state[0].window
	w.giveUp()
	held := w.release
	w.release = nil
	got := sourceTimes(s.received(held))
	got = append(got, sourceTimes(s.received(notification(itemValues(1, []int64{39, 47}))))...)
	if want := []int64{45, 46, 47}; !slices.Equal(got, want) || !closed(wait.done) {
		t.Errorf("delivered %v, want %v, and the old item deletable", got, want)
	}
}

// TestMoveWindowWaitsForEveryNode: with two moved nodes, the old items
// are deleted only once both overlap.
func TestMoveWindowWaitsForEveryNode(t *testing.T) {
	s, wait := movedSession(5, 2)
	s.c.nodes = append(s.c.nodes, node{})
	s.c.state = append(s.c.state, nodeState{seen: 7e9, window: &dupWindow{newHandle: 3, wait: wait}})
	s.c.byHandle[3] = 1
	wait.left++
	s.c.watched++
	s.received(notification(itemValues(2, []int64{5})))
	if closed(wait.done) {
		t.Fatalf("deletable after one of two nodes overlapped")
	}
	s.received(notification(itemValues(3, []int64{7})))
	if !closed(wait.done) {
		t.Fatalf("not deletable after both nodes overlapped")
	}
}

type itemValue struct {
	h uint32
	t int64 // source time, s; 0: none
}

func itemValues(h uint32, ts []int64) []itemValue {
	vs := make([]itemValue, len(ts))
	for k, t := range ts {
		vs[k] = itemValue{h, t}
	}
	return vs
}

func notification(vs []itemValue) []*ua.MonitoredItemNotification {
	items := make([]*ua.MonitoredItemNotification, len(vs))
	for k, v := range vs {
		dv := &ua.DataValue{Value: ua.MustVariant(uint64(v.t))}
		if v.t != 0 {
			dv.SourceTimestamp = time.Unix(v.t, 0)
		}
		items[k] = &ua.MonitoredItemNotification{ClientHandle: v.h, Value: dv}
	}
	return items
}

func sourceTimes(items []*ua.MonitoredItemNotification, _ []int) []int64 {
	ts := make([]int64, len(items))
	for k, it := range items {
		ts[k] = unixNano(it.Value.SourceTimestamp) / 1e9
	}
	return ts
}

// movedSession returns a session with one node (index 0, old handle 1)
// moved to an item of newHandle; seen (s) is its last value delivered.
func movedSession(seen int64, newHandle uint32) (*session, *overlaps) {
	wait := &overlaps{left: 1, done: make(chan struct{})}
	c := &Client{nodes: []node{{}}, watched: 1, byHandle: map[uint32]int{1: 0, newHandle: 0},
		state: []nodeState{{seen: seen * 1e9, plain: true, window: &dupWindow{newHandle: newHandle, wait: wait}}}}
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

// TestMoveWindowHoldsCopies: a held value outlives its notification, whose
// memory deliver hands back to gopcua for the next decode (patch 10). The
// window must hold copies: here each notification is overwritten once
// received, as a reuse would, and the held values must still come out as
// they were sent.
func TestMoveWindowHoldsCopies(t *testing.T) {
	s, _ := movedSession(38, 2)
	var got []int64
	for _, n := range [][]itemValue{itemValues(2, []int64{48, 49}), itemValues(1, []int64{39, 48, 50})} {
		items := notification(n)
		got = append(got, sourceTimes(s.received(items))...)
		for _, it := range items { // what a reuse of the memory does
			it.ClientHandle = 99
			*it.Value = ua.DataValue{Value: ua.MustVariant(uint64(0)), SourceTimestamp: time.Unix(1, 0)}
		}
	}
	got = append(got, sourceTimes(s.received(s.c.state[0].window.release))...)
	if want := []int64{39, 48, 49}; !slices.Equal(got, want) { // old item's 50 is dropped once the new one took over
		t.Errorf("delivered %v, want %v", got, want)
	}
}
