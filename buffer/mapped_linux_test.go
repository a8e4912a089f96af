package buffer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	fb "factorybridge"
)

// mappedTestValue is the value of the reading with sequence seq: 4 KiB
// that name it, so that a page mapped back wrongly shows.
func mappedTestValue(seq uint64) string {
	return strings.Repeat(fmt.Sprintf("%07d ", seq), 512)
}

func mappedTestReadings(first uint64, n int) []fb.Reading {
	rs := make([]fb.Reading, n)
	for i := range rs {
		rs[i] = fb.Reading{Name: "site/line1/blob", Server: "sim", NodeID: "ns=2;s=blob",
			Value: fb.TextValue(fb.TypeString, mappedTestValue(first+uint64(i)))}
	}
	return rs
}

// mappedRSS returns the resident bytes of path's mappings in this process
// (the Rss lines of /proc/self/smaps under the mappings of path).
func mappedRSS(path string) (int64, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			in = len(fields) == 6 && fields[5] == path
		case in && fields[0] == "Rss:":
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			total += kb << 10
		}
	}
	return total, sc.Err()
}

// readAllChecked reads every reading after 0 in batches of 1,024 (4 MiB),
// waiting for them as they are committed, checks each value and returns
// the highest mapped RSS seen after a batch.
func readAllChecked(b *Buffer, path string, total uint64) (peak int64, err error) {
	ctx := context.Background()
	var rs []fb.Reading
	for after := uint64(0); after < total; {
		rs, err = b.ReadConsumer(ctx, rs, after, 1024)
		if err != nil {
			return peak, fmt.Errorf("read after %d: %w", after, err)
		}
		for _, r := range rs {
			if r.Seq != after+1 || r.Value.Str != mappedTestValue(r.Seq) {
				return peak, fmt.Errorf("reading %d after %d: wrong sequence or value %.16q", r.Seq, after, r.Value.Str)
			}
			after = r.Seq
		}
		rss, err := mappedRSS(path)
		if err != nil {
			return peak, err
		}
		peak = max(peak, rss)
	}
	return peak, nil
}

type peakResult struct {
	peak int64
	err  error
}

// mustReadAll is readAllChecked on the test's goroutine.
func mustReadAll(t *testing.T, b *Buffer, path string, total uint64) int64 {
	t.Helper()
	peak, err := readAllChecked(b, path, total)
	if err != nil {
		t.Fatal(err)
	}
	return peak
}

// appendChecked appends readings first..last in batches and returns the
// highest mapped RSS seen after a batch's commit.
func appendChecked(h *harness, path string, first, last uint64) (peak int64, err error) {
	const batch = 256 // 1 MiB
	for seq := first; seq <= last; seq += batch {
		h.append(mappedTestReadings(seq, batch))
		rss, err := mappedRSS(path)
		if err != nil {
			return peak, err
		}
		peak = max(peak, rss)
	}
	return peak, nil
}

// TestMappedPagesStayBounded writes 256 MiB of readings, the second half
// while a reader reads them all, and checks that the file's pages mapped
// into the process stay bounded, that without the drops they would not,
// and that what is read after a drop is what was written.
func TestMappedPagesStayBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 256 MiB")
	}
	const total = 64 << 10      // readings of 4 KiB: 256 MiB
	const bound = 48 << 20      // dropAfterBytes + one read + a commit's worth
	const writeBound = 32 << 20 // 18-24 MiB measured, 48 without counting writes
	path := testPath(t)
	h := open(t, Options{Path: path})
	// Writes alone map pages: bbolt copies the last leaf's values.
	peak, err := appendChecked(h, path, 1, total/2)
	t.Logf("mapped RSS peak %d MiB while writing", peak>>20)
	if err != nil || peak > writeBound {
		t.Errorf("mapped RSS peaked at %d MiB while 128 MiB were written (%v); want ≤ %d MiB", peak>>20, err, writeBound>>20)
	}
	read := make(chan peakResult, 1)
	go func() {
		peak, err := readAllChecked(h.buf, path, total)
		read <- peakResult{peak, err}
	}()
	if peak, err = appendChecked(h, path, total/2+1, total); err != nil || peak > bound {
		t.Errorf("mapped RSS peaked at %d MiB while 128 MiB more were written and read (%v); want ≤ %d MiB", peak>>20, err, bound>>20)
	}
	res := <-read
	if res.err != nil {
		t.Fatal(res.err)
	}
	t.Logf("mapped RSS peak %d MiB while reading, %d drops", res.peak>>20, h.buf.mapped.drops.Load())
	if res.peak > bound {
		t.Errorf("mapped RSS peaked at %d MiB while 256 MiB were read; want ≤ %d MiB", res.peak>>20, bound>>20)
	}

	// Without drops (writer stopped), reading it all maps it all: the
	// measurement sees what the drops prevent.
	h.stop()
	if err := <-h.done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if peak := mustReadAll(t, h.buf, path, total); peak < 200<<20 {
		t.Errorf("mapped RSS peaked at %d MiB reading 256 MiB without drops; the measurement is broken", peak>>20)
	}
	if err := h.buf.dropMappedNow(); err != nil {
		t.Fatalf("drop: %v", err)
	}
	if got, err := mappedRSS(path); err != nil || got > 1<<20 {
		t.Errorf("mapped RSS %d KiB after a drop (%v), want ≤ 1 MiB", got>>10, err)
	}
	mustReadAll(t, h.buf, path, total) // the same contents, faulted back in
	h.start()
}
