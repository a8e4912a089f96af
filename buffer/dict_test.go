package buffer

import (
	"testing"

	fb "factorybridge"
)

// TestDictionarySharedNames: origins that share a name (a reload moved a
// node to another station) get numbers of their own, found again by id;
// a rollback forgets only what was added since the last store.
func TestDictionarySharedNames(t *testing.T) {
	r := func(name, station string) *fb.Reading {
		return &fb.Reading{Name: name, Server: "s", Line: "l", Station: station, NodeID: "ns=1;i=1"}
	}
	d := &dictionary{}
	a, b, a2, c := d.id(r("n", "st1")), d.id(r("n", "st2")), d.id(r("n", "st1")), d.id(r("m", "st1"))
	if a == b || a != a2 || c == a || c == b {
		t.Fatalf("ids n/st1=%d n/st2=%d n/st1 again=%d m/st1=%d: want distinct origins distinct, the same one the same", a, b, a2, c)
	}
	d.committed()
	fresh := d.id(r("n", "st3"))
	other := d.id(r("o", "st1"))
	if fresh != 3 || other != 4 {
		t.Fatalf("new ids %d, %d, want 3, 4", fresh, other)
	}
	d.rollback()
	if got := len(d.snapshot()); got != 3 {
		t.Fatalf("%d origins after rollback, want 3", got)
	}
	for _, tc := range []struct {
		station string
		want    uint64
	}{{"st1", a}, {"st2", b}} {
		if got := d.id(r("n", tc.station)); got != tc.want {
			t.Errorf("n/%s after rollback: %d, want %d", tc.station, got, tc.want)
		}
	}
	if got := d.id(r("n", "st3")); got != 3 {
		t.Errorf("n/st3 added again after rollback: %d, want 3", got)
	}
	if got := d.id(r("o", "st1")); got != 4 {
		t.Errorf("o/st1 added again after rollback: %d, want 4", got)
	}
	if len(d.names) != 5 || len(d.next) != 5 {
		t.Errorf("%d names, %d links, want 5 each", len(d.names), len(d.next))
	}
}
