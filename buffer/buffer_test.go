package buffer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

type harness struct {
	t    testing.TB
	buf  *Buffer
	log  *testenv.Logs
	stop context.CancelFunc
	done chan error
}

// open opens a buffer at path and runs its writer until the test ends.
func open(t testing.TB, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, log: &testenv.Logs{}}
	opts.Logger = slog.New(slog.NewTextHandler(h.log, nil))
	b, err := Open(opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	h.buf = b
	h.start()
	t.Cleanup(h.close)
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.buf.Run(ctx) }()
}

// close stops the writer and closes the file, as a clean shutdown does.
func (h *harness) close() {
	if h.stop == nil {
		return
	}
	h.stop()
	if err := <-h.done; err != nil {
		h.t.Errorf("run: %v", err)
	}
	h.stop = nil
	if err := h.buf.Close(); err != nil {
		h.t.Errorf("close: %v", err)
	}
}

func (h *harness) append(rs []fb.Reading) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.buf.Append(ctx, rs); err != nil {
		h.t.Fatalf("append: %v", err)
	}
	if err := h.buf.Flush(ctx); err != nil {
		h.t.Fatalf("flush: %v", err)
	}
}

// readAll reads everything committed after `after` in chunks of max,
// passing each result back as the next read's dst, as the publisher does.
func (h *harness) readAll(after uint64, max int) []fb.Reading {
	h.t.Helper()
	var out, rs []fb.Reading
	for after < h.buf.Stats().LastSeq {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var err error
		rs, err = h.buf.ReadAfter(ctx, rs, after, max)
		cancel()
		if err != nil {
			h.t.Fatalf("read after %d: %v", after, err)
		}
		out = append(out, rs...)
		after = rs[len(rs)-1].Seq
	}
	return out
}

func testPath(t testing.TB) string { return filepath.Join(t.TempDir(), "buffer.db") }

func TestReadsAreFIFOWithContiguousSequences(t *testing.T) {
	h := open(t, Options{Path: testPath(t), CommitMaxReadings: 100})
	in := loadReadings(1000, 7)
	for i := 0; i < len(in); i += 130 {
		h.append(in[i:min(i+130, len(in))])
	}
	for _, chunk := range []int{1, 33, 1000} {
		got := h.readAll(0, chunk)
		if len(got) != len(in) {
			t.Fatalf("chunk %d: read %d readings, want %d", chunk, len(got), len(in))
		}
		for i, r := range got {
			if r.Seq != uint64(i+1) || r.Name != in[i].Name || r.Value.Bits != in[i].Value.Bits {
				t.Fatalf("chunk %d: reading %d = seq %d %s %v, want seq %d %s %v",
					chunk, i, r.Seq, r.Name, r.Value, i+1, in[i].Name, in[i].Value)
			}
		}
	}
}

func TestNotVisibleBeforeCommit(t *testing.T) {
	// A commit interval far longer than the test: only Flush commits.
	h := open(t, Options{Path: testPath(t), CommitInterval: time.Hour})
	if err := h.buf.Append(context.Background(), loadReadings(5, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	rs, err := h.buf.ReadAfter(ctx, nil, 0, 10)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || len(rs) != 0 {
		t.Fatalf("before commit: got %d readings, err %v; want none and a deadline", len(rs), err)
	}
	readDone := make(chan []fb.Reading, 1)
	go func() {
		rs, _ := h.buf.ReadAfter(context.Background(), nil, 0, 10)
		readDone <- rs
	}()
	if err := h.buf.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case rs := <-readDone:
		if len(rs) != 5 {
			t.Fatalf("after commit: got %d readings, want 5", len(rs))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a blocked reader was not woken by the commit")
	}
}

func TestAckDeletesAndReopenContinuesAtFirstUnacked(t *testing.T) {
	path := testPath(t)
	h := open(t, Options{Path: path, CommitMaxReadings: 10})
	h.append(loadReadings(100, 3))
	if err := h.buf.Ack(40); err != nil {
		t.Fatal(err)
	}
	if err := h.buf.Ack(101); err == nil {
		t.Fatal("ack beyond the last commit was accepted")
	}
	h.close()

	h2 := open(t, Options{Path: path})
	if st := h2.buf.Stats(); st.Depth != 60 || st.LastSeq != 100 {
		t.Fatalf("after reopen: depth %d last %d, want 60 and 100", st.Depth, st.LastSeq)
	}
	got := h2.readAll(0, 1000)
	if len(got) != 60 || got[0].Seq != 41 {
		t.Fatalf("after reopen: read %d readings from seq %d, want 60 from 41", len(got), got[0].Seq)
	}
	h2.append(loadReadings(1, 1))
	if st := h2.buf.Stats(); st.LastSeq != 101 {
		t.Fatalf("new reading got seq %d, want 101 (sequences never repeat)", st.LastSeq)
	}
}

func TestAckedSegmentsAreDeletedOnlyAfterAck(t *testing.T) {
	h := open(t, Options{Path: testPath(t)})
	h.append(loadReadings(50, 5))
	h.append(loadReadings(50, 5))
	if st := h.buf.Stats(); st.Bytes == 0 || st.Depth != 100 {
		t.Fatalf("before ack: %+v", st)
	}
	bytesBefore := h.buf.Stats().Bytes
	if err := h.buf.Ack(50); err != nil {
		t.Fatal(err)
	}
	h.append(nil) // flush applies the ack
	st := h.buf.Stats()
	if st.Depth != 50 || st.Bytes >= bytesBefore || st.Acked != 50 {
		t.Fatalf("after ack of the first segment: %+v (bytes before %d)", st, bytesBefore)
	}
}

func TestSecondOpenFailsAtOnce(t *testing.T) {
	path := testPath(t)
	open(t, Options{Path: path})
	start := time.Now()
	_, err := Open(Options{Path: path, LockWait: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("second open took %s", took)
	}
	if !strings.Contains(err.Error(), "another factorybridge") {
		t.Errorf("error does not tell what to do: %v", err)
	}
}

func TestCorruptFileIsMovedAside(t *testing.T) {
	path := testPath(t)
	garbage := bytes.Repeat([]byte("not a bbolt file "), 1000)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	h := open(t, Options{Path: path})
	h.append(loadReadings(3, 1))
	if got := h.buf.Stats().LastSeq; got != 3 {
		t.Fatalf("fresh buffer last seq %d, want 3", got)
	}
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("quarantined files: %v", aside)
	}
	if kept, _ := os.ReadFile(aside[0]); !bytes.Equal(kept, garbage) {
		t.Error("the quarantined file is not the original")
	}
	if log := h.log.String(); !strings.Contains(log, "moved it aside") || !strings.Contains(log, aside[0]) {
		t.Errorf("log does not say where the old file went:\n%s", log)
	}
}

func TestFullBufferDropsOldestAndCountsExactly(t *testing.T) {
	const maxBytes = 64 << 10
	h := open(t, Options{Path: testPath(t), MaxBytes: maxBytes, CommitMaxReadings: 200})
	const total = 20000
	in := loadReadings(total, 10)
	for i := 0; i < total; i += 200 {
		h.append(in[i : i+200])
	}
	st := h.buf.Stats()
	if st.Bytes > maxBytes {
		t.Fatalf("stored %d bytes, cap %d", st.Bytes, maxBytes)
	}
	got := h.readAll(0, 5000)
	if uint64(len(got))+st.Dropped != total || st.Depth != uint64(len(got)) {
		t.Fatalf("kept %d + dropped %d != %d (depth %d)", len(got), st.Dropped, total, st.Depth)
	}
	if got[len(got)-1].Seq != total || got[0].Seq != st.Dropped+1 {
		t.Fatalf("kept seqs %d..%d, want the newest ending at %d after %d dropped",
			got[0].Seq, got[len(got)-1].Seq, total, st.Dropped)
	}
	if n := strings.Count(h.log.String(), "buffer full"); n != 1 {
		t.Errorf("logged %d buffer-full lines for one episode, want 1", n)
	}
}

func TestAppendBlocksWhenPendingIsFull(t *testing.T) {
	b, err := Open(Options{Path: testPath(t), PendingLimit: 10, CommitMaxReadings: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Append(context.Background(), loadReadings(10, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// No writer runs: the next append must wait rather than grow the queue.
	if err := b.Append(ctx, loadReadings(1, 1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("append beyond the pending limit: %v, want a deadline", err)
	}
}

// TestManyNodesCostFewBytes: with thousands of distinct nodes every segment
// holds nearly every node once; names stored per segment would cost ~80
// bytes a reading. The dictionary stores them once per file.
func TestManyNodesCostFewBytes(t *testing.T) {
	path := testPath(t)
	h := open(t, Options{Path: path})
	const nodes = 30000
	for step := 0; step < 3; step++ {
		h.append(loadReadings(nodes, nodes))
	}
	if per := float64(h.buf.Stats().Bytes) / (3 * nodes); per > 20 {
		t.Fatalf("%.1f stored bytes per reading", per)
	}
	h.close()
	h2 := open(t, Options{Path: path})
	h2.append(loadReadings(10, 10)) // known origins keep their numbers after a reopen
	got := h2.readAll(0, 100000)
	want := loadReadings(nodes, nodes)
	for i, r := range got {
		w := want[i%nodes]
		if i >= 3*nodes {
			w = loadReadings(10, 10)[i-3*nodes]
		}
		if r.Name != w.Name || r.NodeID != w.NodeID || r.Station != w.Station {
			t.Fatalf("reading %d: %s %s, want %s %s", i, r.Name, r.NodeID, w.Name, w.NodeID)
		}
	}
}

// TestFailedCommitForgetsNewOrigins: origins first seen in a commit that
// fails must not keep numbers the file never stored.
func TestFailedCommitForgetsNewOrigins(t *testing.T) {
	h := open(t, Options{Path: testPath(t)})
	h.append(loadReadings(2, 2))
	diskFull := errors.New("no space left on device")
	h.buf.failCommit.Store(&diskFull)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fresh := loadReadings(5, 5) // nodes 2..4 are new
	if err := h.buf.Append(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if err := h.buf.Flush(ctx); err == nil {
		t.Fatal("commit succeeded despite the injected error")
	}
	if n := len(h.buf.dict.snapshot()); n != 2 {
		t.Fatalf("dictionary holds %d stored origins after a failed commit, want 2", n)
	}
	h.buf.failCommit.Store(nil)
	h.append(nil)
	got := h.readAll(0, 100)
	if len(got) != 7 || got[6].Name != fresh[4].Name {
		t.Fatalf("after recovery read %d readings, last %q", len(got), got[len(got)-1].Name)
	}
}
