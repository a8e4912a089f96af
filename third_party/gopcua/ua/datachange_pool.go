// Copyright 2018-2020 opcua authors. All rights reserved.
// Use of this source code is governed by a MIT-style license that can be
// found in the LICENSE file.

// factorybridge patch 10 (PATCHES.md): the blocks patch 7 decodes a
// DataChangeNotification's items into can be handed back for the next
// notification. A subscriber at 100,000 values/s allocated ~150 bytes per
// value for them, the largest part of its allocation and so of its garbage
// collections. Nothing changes for a caller that does not release.

package ua

import "sync"

// maxFreeSlabs bounds the slabs kept for reuse. A subscriber has about
// one notification in flight per subscription while it keeps up; a backlog
// allocates more, and those beyond the bound go to the garbage collector
// when released. 4 slabs of the largest notifications factorybridge asks
// for (10,000 items) hold about 6 MB.
const maxFreeSlabs = 4

// dataChangeSlab holds the memory of one decoded notification's items: the
// slice of pointers, and the items, their DataValues and their Variants in
// one block each. The element after the last item of the slice points to
// mark, which leads (through its DataValue and Variant, whose value is the
// slab) back to the slab: that is how ReleaseDataChangeNotification knows a
// notification's items are a slab's, without a map that would keep
// unreleased notifications alive or an unsafe cast.
type dataChangeSlab struct {
	items    []*MonitoredItemNotification // len = cap-1 = len(structs)
	structs  []MonitoredItemNotification
	values   []DataValue
	variants []Variant

	mark        MonitoredItemNotification
	markValue   DataValue
	markVariant Variant
}

// newBlocks returns a slab with the blocks of n items but without the
// slice of pointers or the mark: one for a single use.
func newBlocks(n int) *dataChangeSlab {
	return &dataChangeSlab{
		structs:  make([]MonitoredItemNotification, n),
		values:   make([]DataValue, n),
		variants: make([]Variant, n),
	}
}

// newDataChangeSlab returns a slab for up to n items.
func newDataChangeSlab(n int) *dataChangeSlab {
	s := newBlocks(n)
	s.items = make([]*MonitoredItemNotification, n, n+1)
	s.mark.Value = &s.markValue
	s.markValue.Value = &s.markVariant
	s.markVariant.value = s
	return s
}

// size is the most items the slab holds.
func (s *dataChangeSlab) size() int { return len(s.structs) }

// itemsFor returns the slab's items slice of length n, marked as the slab's.
func (s *dataChangeSlab) itemsFor(n int) []*MonitoredItemNotification {
	items := s.items[:n+1]
	items[n] = &s.mark
	return items[:n]
}

// clear zeroes the first n entries of every block and the mark's slot, so
// that nothing a notification referenced (values, strings, the message
// buffer its ByteStrings alias) stays reachable from a free slab, and the
// decoder, which writes only the fields present, starts from zero values.
func (s *dataChangeSlab) clear(n int) {
	clear(s.items[:n+1])
	clear(s.structs[:n])
	clear(s.values[:n])
	clear(s.variants[:n])
}

// slabOf returns the slab whose items items are, or nil.
func slabOf(items []*MonitoredItemNotification) *dataChangeSlab {
	n := len(items)
	if cap(items) <= n {
		return nil
	}
	m := items[:n+1][n]
	if m == nil || m.Value == nil || m.Value.Value == nil {
		return nil
	}
	s, ok := m.Value.Value.value.(*dataChangeSlab)
	if !ok || m != &s.mark || n > s.size() || &s.items[:1][0] != &items[:1][0] {
		return nil
	}
	return s
}

// slabs is the free list of slabs, shared by every client of the process.
var slabs struct {
	mu   sync.Mutex
	free []*dataChangeSlab
}

// getSlab returns a cleared slab for at least n items: the smallest free
// one that is large enough, or a new one of n.
func getSlab(n int) *dataChangeSlab {
	slabs.mu.Lock()
	best := -1
	for i, s := range slabs.free {
		if s.size() >= n && (best < 0 || s.size() < slabs.free[best].size()) {
			best = i
		}
	}
	if best >= 0 {
		s := slabs.free[best]
		last := len(slabs.free) - 1
		slabs.free[best], slabs.free[last] = slabs.free[last], nil
		slabs.free = slabs.free[:last]
		slabs.mu.Unlock()
		return s
	}
	slabs.mu.Unlock()
	return newDataChangeSlab(n)
}

// putSlab clears the first n entries of s and keeps it for reuse. When
// maxFreeSlabs are kept already, it takes the place of the smallest if it
// is larger, so that the list settles on slabs that fit the largest
// notifications; otherwise it is left to the garbage collector.
func putSlab(s *dataChangeSlab, n int) {
	s.clear(n)
	slabs.mu.Lock()
	defer slabs.mu.Unlock()
	if len(slabs.free) < maxFreeSlabs {
		slabs.free = append(slabs.free, s)
		return
	}
	smallest := 0
	for i, f := range slabs.free {
		if f.size() < slabs.free[smallest].size() {
			smallest = i
		}
	}
	if s.size() > slabs.free[smallest].size() {
		slabs.free[smallest] = s
	}
}

// ReleaseDataChangeNotification hands the memory of d's monitored items
// (the items, their DataValues and Variants) back for reuse by the next
// DataChangeNotification decoded, and sets d's fields to nil. It is for
// subscribers that have taken out of d everything they keep: after the call,
// an item, DataValue or Variant of d, or a pointer into one, may be
// overwritten at any time by another notification. Values a Variant points
// to (strings, slices, structs) are not reused and stay valid.
//
// Call it at most once per notification. Notifications that were not
// decoded by this package (built by hand, or decoded with the codec debug
// flag), or whose MonitoredItems were changed, are left to the garbage
// collector as before, and d is left as it is.
func ReleaseDataChangeNotification(d *DataChangeNotification) {
	if d == nil {
		return
	}
	s := slabOf(d.MonitoredItems)
	if s == nil {
		return
	}
	n := len(d.MonitoredItems)
	d.MonitoredItems, d.DiagnosticInfos = nil, nil
	putSlab(s, n)
}
