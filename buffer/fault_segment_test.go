package buffer

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"unsafe"

	fb "factorybridge"

	bolt "go.etcd.io/bbolt"
)

// segmentSpan is a stored segment: its key (first seq), how many readings
// it holds, and where its value lies in the file.
type segmentSpan struct {
	first, count uint64
	off          int64
	size         int
}

// TestFaultCorruptSegmentsSkippedAndLogged damages the bodies of two
// segments of a cleanly closed buffer, leaving bbolt's pages intact, as a
// bad sector inside a value would (docs/faults.md, 7: "opened with its last
// sequence intact and the damaged segments skipped and logged"). The file
// opens in place; reading skips exactly the two segments' readings and
// nothing else; each is logged once with its first seq and counted.
// TestFaultCorruptPages damages whole pages, which bbolt notices first.
func TestFaultCorruptSegmentsSkippedAndLogged(t *testing.T) {
	path := testPath(t)
	h := open(t, Options{Path: path, CommitMaxReadings: 500})
	for range 20 {
		h.append(loadReadings(2000, 50))
	}
	_ = h.buf.Ack(5000)
	h.append(nil)
	h.close()
	segs := segmentSpans(t, path)
	damaged := []segmentSpan{segs[len(segs)/3], segs[2*len(segs)/3]} // well past the acknowledged 5000
	for _, s := range damaged {
		flipBody(t, path, s)
	}

	h2 := open(t, Options{Path: path})
	st := h2.buf.Stats()
	got := readReadable(t, h2.buf)
	if st.LastSeq != 40000 || h2.log.Contains("moved it aside") {
		t.Fatalf("damaged values: last seq %d (want 40000), log:\n%s", st.LastSeq, h2.log)
	}
	var want []uint64
	for seq := uint64(5001); seq <= 40000; seq++ {
		if !slices.ContainsFunc(damaged, func(s segmentSpan) bool { return seq >= s.first && seq < s.first+s.count }) {
			want = append(want, seq)
		}
	}
	if seqs := seqsOf(got); !slices.Equal(seqs, want) {
		t.Errorf("read %d readings, want %d: every one but the damaged segments' %v", len(seqs), len(want), damaged)
	}
	lines := h2.log.Count("buffer segment is corrupt; its readings are skipped")
	h2.buf.mu.Lock()
	counted := h2.buf.st.corrupt
	h2.buf.mu.Unlock()
	if lines != len(damaged) || counted != uint64(len(damaged)) {
		t.Errorf("%d corrupt-segment lines, %d counted; want %d:\n%s", lines, counted, len(damaged), h2.log)
	}
	for _, s := range damaged {
		if !h2.log.Contains("first_seq=" + strconv.FormatUint(s.first, 10) + " ") {
			t.Errorf("no log line names the segment from seq %d:\n%s", s.first, h2.log)
		}
	}
}

// segmentSpans lists the segments of a closed buffer file with the offset
// of each value in the file: bbolt hands out values as slices of its
// read-only mmap of the file, so a value's address minus the map's start
// is its offset.
func segmentSpans(t *testing.T, path string) []segmentSpan {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := db.Info().Data
	var out []segmentSpan
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSegments).ForEach(func(k, v []byte) error {
			info, _, err := readHeader(v)
			if err != nil {
				return err
			}
			off := int64(uintptr(unsafe.Pointer(unsafe.SliceData(v))) - base)
			out = append(out, segmentSpan{first: seqFromKey(k), count: info.count, off: off, size: len(v)})
			return nil
		})
	})
	if err != nil || len(out) < 3 {
		t.Fatalf("segments: %d, %v", len(out), err)
	}
	return out
}

// flipBody inverts 16 bytes in the middle of a segment's body, past its
// header: the checksum no longer matches.
func flipBody(t *testing.T, path string, s segmentSpan) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	at := s.off + int64(segHeader+(s.size-segHeader)/2)
	b := make([]byte, 16)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0xFF
	}
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func seqsOf(rs []fb.Reading) []uint64 {
	out := make([]uint64, len(rs))
	for i, r := range rs {
		out[i] = r.Seq
	}
	return out
}
