package ua

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// Patch 10: ReleaseDataChangeNotification hands a notification's blocks to
// the next decode. A reused block must decode exactly what a new one does,
// hold nothing of the released notification, and cost no allocation.

// emptySlabs empties the free list, so that a test knows what it holds.
func emptySlabs(t testing.TB) {
	t.Helper()
	slabs.mu.Lock()
	defer slabs.mu.Unlock()
	slabs.free = nil
}

// decodeReleasing decodes b with the fast decoder, compares the result
// with the reflective decoder's and releases it.
func decodeReleasing(t testing.TB, b []byte) {
	t.Helper()
	want, wn, werr := reflectiveDataChange(b)
	got := new(DataChangeNotification)
	gn, gerr := got.Decode(b)
	if fmt.Sprintf("%T %v", gerr, gerr) != fmt.Sprintf("%T %v", werr, werr) || gn != wn {
		t.Fatalf("input %x:\nafter reuse:        %d, %T %v\nreflective decoder: %d, %T %v", b, gn, gerr, gerr, wn, werr, werr)
	}
	if diff := firstDiff("DataChangeNotification", reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()); diff != "" {
		t.Fatalf("input %x: after reuse the decoders differ at %s", b, diff)
	}
	owned, items := slabOf(got.MonitoredItems) != nil, len(got.MonitoredItems)
	if owned != (items > 0) { // decoded items are a slab's, even if a later field failed
		t.Fatalf("input %x: %d items decoded with error %v from a slab: %t", b, items, gerr, owned)
	}
	ReleaseDataChangeNotification(got)
	if owned && (got.MonitoredItems != nil || got.DiagnosticInfos != nil) {
		t.Fatal("a released notification keeps its fields")
	}
	if !owned && len(got.MonitoredItems) != items {
		t.Fatal("the release changed a notification it does not own")
	}
	checkFreeSlabsZero(t)
}

// checkFreeSlabsZero fails t unless every block entry of the free slabs
// is a zero value: nothing a released notification referenced is
// reachable from them, and the decoder starts from zero.
func checkFreeSlabsZero(t testing.TB) {
	t.Helper()
	slabs.mu.Lock()
	defer slabs.mu.Unlock()
	for _, s := range slabs.free {
		for _, block := range []any{s.items[:cap(s.items)], s.structs, s.values, s.variants} {
			v := reflect.ValueOf(block)
			for i := range v.Len() {
				if !v.Index(i).IsZero() {
					t.Fatalf("free slab of %d items: %T entry %d is not zero: %+v", s.size(), block, i, v.Index(i))
				}
			}
		}
	}
}

// TestPatchDataChangeReleaseReuse decodes random notifications, every
// truncation and corrupted copies of them one after the other, each into
// the blocks the one before released, and compares each with the
// reflective decoder's result.
func TestPatchDataChangeReleaseReuse(t *testing.T) {
	emptySlabs(t)
	rng := rand.New(rand.NewPCG(9, 9))
	for range 300 {
		b := encodeDataChange(t, randomDataChange(rng))
		decodeReleasing(t, b)
		for _, k := range truncations(rng, len(b)) {
			decodeReleasing(t, b[:k])
		}
		for range 20 {
			decodeReleasing(t, corrupt(rng, b))
		}
	}
}

// FuzzPatchDataChangeReleaseReuse decodes a, releases it and decodes b
// into what a released.
func FuzzPatchDataChangeReleaseReuse(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		f.Add(encodeDataChange(f, randomDataChange(rng)), encodeDataChange(f, randomDataChange(rng)))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		emptySlabs(t)
		decodeReleasing(t, a)
		decodeReleasing(t, b)
	})
}

// byteItems returns an encoded notification of n items whose values need
// no allocation of their own when decoded (a byte in an interface is one
// of the runtime's static values), with both timestamps.
func byteItems(t testing.TB, n int) []byte {
	d := &DataChangeNotification{MonitoredItems: make([]*MonitoredItemNotification, n)}
	now := time.Now()
	for i := range d.MonitoredItems {
		d.MonitoredItems[i] = &MonitoredItemNotification{ClientHandle: uint32(i), Value: &DataValue{
			EncodingMask: DataValueValue | DataValueSourceTimestamp | DataValueServerTimestamp,
			Value:        MustVariant(byte(i)), SourceTimestamp: now, ServerTimestamp: now,
		}}
	}
	return encodeDataChange(t, d)
}

// TestPatchDataChangeReleaseAllocs: decoding a notification no larger than
// one released before allocates nothing but the Variants' boxed values.
func TestPatchDataChangeReleaseAllocs(t *testing.T) {
	emptySlabs(t)
	b := byteItems(t, 1000)
	d := new(DataChangeNotification)
	decodeAndRelease := func() {
		if _, err := d.Decode(b); err != nil {
			t.Fatal(err)
		}
		ReleaseDataChangeNotification(d)
	}
	if got := testing.AllocsPerRun(100, decodeAndRelease); got != 0 {
		t.Errorf("decode and release of 1,000 items: %v allocations, want 0", got)
	}
	without := testing.AllocsPerRun(100, func() {
		if _, err := d.Decode(b); err != nil {
			t.Fatal(err)
		}
	})
	if without < 4 {
		t.Errorf("decode without release: %v allocations, want the 4 blocks at least", without)
	}
	small := byteItems(t, 10)
	if got := testing.AllocsPerRun(100, func() { // a larger slab serves
		if _, err := d.Decode(small); err != nil {
			t.Fatal(err)
		}
		ReleaseDataChangeNotification(d)
	}); got != 0 {
		t.Errorf("decode and release of 10 items after 1,000: %v allocations, want 0", got)
	}
}

// TestPatchDataChangeReleaseOnlyOwnSlabs: only what the decoder allocated,
// unchanged, goes back; a notification built by hand, released twice,
// or whose items were resliced is left alone.
func TestPatchDataChangeReleaseOnlyOwnSlabs(t *testing.T) {
	b := byteItems(t, 3)
	decode := func() *DataChangeNotification {
		d := new(DataChangeNotification)
		if _, err := d.Decode(b); err != nil {
			t.Fatal(err)
		}
		return d
	}
	freeSlabs := func() int {
		slabs.mu.Lock()
		defer slabs.mu.Unlock()
		return len(slabs.free)
	}
	emptySlabs(t)
	hand := &DataChangeNotification{MonitoredItems: make([]*MonitoredItemNotification, 2, 8)}
	hand.MonitoredItems[0] = &MonitoredItemNotification{Value: &DataValue{Value: MustVariant(1.5)}}
	ReleaseDataChangeNotification(hand)
	ReleaseDataChangeNotification(nil)
	if n := freeSlabs(); n != 0 {
		t.Fatalf("a notification built by hand went to the free list (%d slabs)", n)
	}

	d := decode()
	first := d.MonitoredItems[0]
	copied := *d
	ReleaseDataChangeNotification(d)
	ReleaseDataChangeNotification(d)
	ReleaseDataChangeNotification(&copied) // its mark was cleared
	if n := freeSlabs(); n != 1 {
		t.Fatalf("one notification released three times: %d free slabs, want 1", n)
	}
	d = decode()
	if d.MonitoredItems[0] != first {
		t.Fatal("the released slab was not reused")
	}
	d.MonitoredItems = d.MonitoredItems[:2]
	ReleaseDataChangeNotification(d)
	if n := freeSlabs(); n != 0 {
		t.Fatalf("resliced items went to the free list (%d slabs)", n)
	}
}

// TestPatchDataChangeFreeSlabsBounded: the free list keeps at most
// maxFreeSlabs, the largest.
func TestPatchDataChangeFreeSlabsBounded(t *testing.T) {
	emptySlabs(t)
	var ds []*DataChangeNotification
	for n := range maxFreeSlabs + 3 {
		d := new(DataChangeNotification)
		if _, err := d.Decode(byteItems(t, 10*(n+1))); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	for _, d := range ds {
		ReleaseDataChangeNotification(d)
	}
	slabs.mu.Lock()
	defer slabs.mu.Unlock()
	if len(slabs.free) != maxFreeSlabs {
		t.Fatalf("%d free slabs, want %d", len(slabs.free), maxFreeSlabs)
	}
	for _, s := range slabs.free {
		if s.size() <= 10*3 {
			t.Errorf("a slab of %d items was kept over larger ones", s.size())
		}
	}
}
