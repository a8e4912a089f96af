package bridge

import (
	"context"
	"testing"

	fb "factorybridge"
)

// fakeQueue returns what it is told and records acknowledgements.
type fakeQueue struct {
	next  []fb.Reading
	acked uint64
}

func (q *fakeQueue) ReadAfter(_ context.Context, dst []fb.Reading, after uint64, _ int) ([]fb.Reading, error) {
	out := dst[:0]
	for _, r := range q.next {
		if r.Seq > after {
			out = append(out, r)
		}
	}
	return out, nil
}

func (q *fakeQueue) Ack(seq uint64) error { q.acked = seq; return nil }

func testLines() *lineStats {
	s := &lineStats{byKey: map[[2]string]*lineCounters{}}
	for _, k := range [][2]string{{"plc", "l1"}, {"plc", "l2"}, {"plc2", "l1"}} {
		c := &lineCounters{server: k[0], line: k[1]}
		s.byKey[k], s.all = c, append(s.all, c)
	}
	return s
}

func reading(seq uint64, server, line string) fb.Reading {
	return fb.Reading{Seq: seq, Server: server, Line: line}
}

// TestCountingQueue: published counts every reading read (again after a
// re-read), acked exactly those acknowledged, cut in the middle of a run,
// across seq gaps (dropped readings are never counted) and OEE records.
func TestCountingQueue(t *testing.T) {
	lines := testLines()
	fq := &fakeQueue{next: []fb.Reading{
		reading(1, "plc", "l1"), reading(2, "plc", "l1"), reading(3, "plc", "l2"),
		{Seq: 4, Line: "l1", Class: fb.ClassOEE}, reading(5, "plc", "l1"),
		reading(8, "plc2", "l1"), reading(9, "plc2", "l1"), reading(10, "plc", "l1"),
		reading(11, "elsewhere", "l1"),
	}}
	ref := &linesRef{}
	ref.Store(lines)
	q := &countingQueue{next: fq, lines: ref}
	ctx := context.Background()
	read := func(after uint64) {
		if _, err := q.ReadAfter(ctx, nil, after, 100); err != nil {
			t.Fatal(err)
		}
	}
	ack := func(seq uint64) {
		if err := q.Ack(seq); err != nil {
			t.Fatal(err)
		}
	}
	read(0)
	ack(1)  // in the middle of plc/l1's first run
	read(3) // a reconnect: everything after 3 is read again
	ack(8)  // seqs 6 and 7 were dropped by the buffer: not counted
	ack(11)
	want := map[[2]string][2]uint64{ // published, acked
		{"plc", "l1"}:  {4 + 2, 4},
		{"plc", "l2"}:  {1, 1},
		{"plc2", "l1"}: {2 + 2, 2},
	}
	for key, w := range want {
		c := lines.byKey[key]
		if got := [2]uint64{c.published.Load(), c.acked.Load()}; got != w {
			t.Errorf("%v: published, acked = %v, want %v", key, got, w)
		}
	}
	if len(q.pending) != 0 {
		t.Errorf("runs pending after the last ack: %+v", q.pending)
	}
}

type nopSink struct{ n int }

func (s *nopSink) Append(_ context.Context, rs []fb.Reading) error { s.n += len(rs); return nil }

func TestCountingSinkAndCommit(t *testing.T) {
	lines := testLines()
	rs := []fb.Reading{reading(0, "plc", "l1"), reading(0, "plc", "l1"), reading(0, "plc", "l2"),
		reading(0, "plc", "l1"), {Line: "l1", Class: fb.ClassOEE}}
	ref := &linesRef{}
	ref.Store(lines)
	sink := countingSink{next: &nopSink{}, lines: ref}
	if err := sink.Append(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	lines.committed(rs)
	for key, want := range map[[2]string]uint64{{"plc", "l1"}: 3, {"plc", "l2"}: 1, {"plc2", "l1"}: 0} {
		c := lines.byKey[key]
		if got := [2]uint64{c.received.Load(), c.committed.Load()}; got != [2]uint64{want, want} {
			t.Errorf("%v: received, committed = %v, want %d each", key, got, want)
		}
	}
}

func BenchmarkCountingSinkRuns(b *testing.B) {
	lines := testLines()
	rs := make([]fb.Reading, 1000)
	for i := range rs {
		rs[i] = reading(0, "plc", []string{"l1", "l2"}[i/500])
	}
	b.ReportAllocs()
	for b.Loop() {
		lines.committed(rs)
	}
}
