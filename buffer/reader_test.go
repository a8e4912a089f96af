package buffer

import (
	"context"
	"testing"
	"time"

	fb "factorybridge"
)

// TestReadAfterFillsDst: a read appends into the caller's slice when it has
// room, and what the caller then writes into it does not reach the buffer.
func TestReadAfterFillsDst(t *testing.T) {
	h := open(t, Options{Path: testPath(t)})
	in := loadReadings(100, 10)
	h.append(in)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dst := make([]fb.Reading, 3, 100)
	rs, err := h.buf.ReadAfter(ctx, dst, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 100 || &rs[0] != &dst[0] {
		t.Fatalf("read %d readings into a new array: %v; want 100 into dst", len(rs), &rs[0] != &dst[0])
	}
	for i := range rs {
		rs[i] = fb.Reading{Name: "scribbled"}
	}
	rs, err = h.buf.ReadAfter(ctx, rs, 50, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 50 || &rs[0] != &dst[0] {
		t.Fatalf("second read: %d readings, same array %v; want 50 in dst", len(rs), &rs[0] == &dst[0])
	}
	for i, r := range rs {
		if w := in[50+i]; r.Seq != uint64(51+i) || r.Name != w.Name || r.Value.Bits != w.Value.Bits {
			t.Fatalf("reading %d = seq %d %s %v; want seq %d %s %v", i, r.Seq, r.Name, r.Value, 51+i, w.Name, w.Value)
		}
	}
}

func TestReadSlice(t *testing.T) {
	for _, tc := range []struct {
		name       string
		dstCap     int
		avail      uint64
		most       int
		reuse      bool
		wantMinCap int
		wantMaxCap int
	}{
		{"nil sized by what is committed", 0, 300, 4096, false, 300, 300},
		{"nil sized by max", 0, 1 << 20, 1000, false, 1000, 1000},
		{"nil bounded", 0, 1 << 20, 1 << 20, false, maxReadPrealloc, maxReadPrealloc},
		{"dst with room", 500, 300, 4096, true, 500, 500},
		{"dst too small doubles", 500, 600, 4096, false, 1000, 1000},
		{"doubling bounded by max", 500, 600, 700, false, 700, 700},
		{"dst large enough for the bound", maxReadPrealloc, 1 << 20, 1 << 20, true, maxReadPrealloc, maxReadPrealloc},
		{"no max", 0, 100, 0, false, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]fb.Reading, 1, max(tc.dstCap, 1))
			if tc.dstCap == 0 {
				dst = nil
			}
			got := readSlice(dst, tc.avail, tc.most)
			reused := cap(dst) > 0 && cap(got) > 0 && &got[:1][0] == &dst[:1][0]
			if len(got) != 0 || reused != tc.reuse || cap(got) < tc.wantMinCap || cap(got) > tc.wantMaxCap {
				t.Fatalf("got len %d cap %d reused %v; want len 0, cap %d..%d, reused %v",
					len(got), cap(got), reused, tc.wantMinCap, tc.wantMaxCap, tc.reuse)
			}
		})
	}
}
