package bridge

import (
	"context"
	"sync"
	"sync/atomic"

	fb "factorybridge"
	"factorybridge/config"
)

// lineCounters count one server's readings of one line at each stage of
// the data path.
type lineCounters struct {
	server, line string
	// received: handed to the buffer by the OPC UA client; committed: in a
	// group commit; published: read from the buffer by the publisher to be
	// sent (again after a reconnect); acked: acknowledged by the broker or
	// hub and so deleted from the buffer.
	received, committed, published, acked atomic.Uint64
}

// lineStats are the counters of every server and line of the
// configuration, in its order; the set is fixed when the bridge is built,
// so lookups need no lock. The counting sides find a reading's counters by
// comparing with the previous reading's first, which is the same almost
// always (readings arrive grouped by subscription), so the map is used
// once per run of readings, not per reading.
type lineStats struct {
	all   []*lineCounters
	byKey map[[2]string]*lineCounters
}

// linesRef holds the lineStats of the running configuration; a reload
// replaces them (keeping the counters of the servers and lines it keeps).
type linesRef struct{ atomic.Pointer[lineStats] }

// committed is the buffer's OnCommit.
func (r *linesRef) committed(batch []fb.Reading) { r.Load().committed(batch) }

// carry makes s use old's counters for the server and lines both have.
func (s *lineStats) carry(old *lineStats) {
	if old == nil {
		return
	}
	for i, c := range s.all {
		if o := old.byKey[[2]string{c.server, c.line}]; o != nil {
			s.all[i], s.byKey[[2]string{c.server, c.line}] = o, o
		}
	}
}

func newLineStats(cfg *config.Config) *lineStats {
	s := &lineStats{byKey: map[[2]string]*lineCounters{}}
	for _, n := range cfg.Nodes("") {
		key := [2]string{n.Server, n.Line}
		if s.byKey[key] == nil {
			c := &lineCounters{server: n.Server, line: n.Line}
			s.byKey[key] = c
			s.all = append(s.all, c)
		}
	}
	return s
}

// run is a stretch of readings of one server and line.
type run struct {
	c *lineCounters
	n uint64
}

// runs appends to dst the runs of readings in rs, skipping entries that
// are not readings (OEE records) and readings of no configured line.
func (s *lineStats) runs(dst []run, rs []fb.Reading) []run {
	var cur *lineCounters
	for i := range rs {
		r := &rs[i]
		if r.Class != fb.ClassReading {
			continue
		}
		if cur == nil || cur.line != r.Line || cur.server != r.Server {
			cur = s.byKey[[2]string{r.Server, r.Line}]
			if cur == nil {
				continue
			}
			dst = append(dst, run{c: cur})
		}
		dst[len(dst)-1].n++
	}
	return dst
}

// committed is the buffer's OnCommit.
func (s *lineStats) committed(batch []fb.Reading) {
	var buf [8]run
	for _, r := range s.runs(buf[:0], batch) {
		r.c.committed.Add(r.n)
	}
}

// countingSink counts what a source hands to the buffer: the readings are
// counted before the call and the counts added once it succeeded. It keeps
// nothing of rs (Sink).
type countingSink struct {
	next  fb.Sink
	lines *linesRef
}

// Append counts rs and passes them on.
func (s countingSink) Append(ctx context.Context, rs []fb.Reading) error {
	var buf [8]run
	runs := s.lines.Load().runs(buf[:0], rs)
	if err := s.next.Append(ctx, rs); err != nil {
		return err
	}
	for _, r := range runs {
		r.c.received.Add(r.n)
	}
	return nil
}

// countingQueue counts what the publisher reads from the buffer and what
// it acknowledges. It remembers the runs read and not yet acknowledged
// (bounded by the publisher's read batch and in-flight window) with their
// seqs, cut where the seqs are not consecutive, so that an Ack in the
// middle of a run counts exactly the readings up to it.
type countingQueue struct {
	next  fb.Queue
	lines *linesRef

	mu      sync.Mutex
	pending []seqRun // read, not acknowledged, by seq
}

// seqRun is a run of readings whose seqs are first..last.
type seqRun struct {
	c           *lineCounters
	first, last uint64
}

// ReadAfter reads from the buffer and counts what it returns as published.
// A read after a seq already read (a reconnect resends what was not
// acknowledged) forgets the runs after it: they are read again.
func (q *countingQueue) ReadAfter(ctx context.Context, dst []fb.Reading, after uint64, max int) ([]fb.Reading, error) {
	rs, err := q.next.ReadAfter(ctx, dst, after, max)
	if err != nil || len(rs) == 0 {
		return rs, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.forgetAfter(after)
	start := len(q.pending)
	lines := q.lines.Load()
	var cur *seqRun
	for i := range rs {
		r := &rs[i]
		if r.Class != fb.ClassReading {
			cur = nil
			continue
		}
		if cur == nil || cur.c.line != r.Line || cur.c.server != r.Server || cur.last+1 != r.Seq {
			c := lines.byKey[[2]string{r.Server, r.Line}]
			if c == nil {
				cur = nil
				continue
			}
			q.pending = append(q.pending, seqRun{c: c, first: r.Seq, last: r.Seq - 1})
			cur = &q.pending[len(q.pending)-1]
		}
		cur.last = r.Seq
	}
	for _, r := range q.pending[start:] {
		r.c.published.Add(r.last - r.first + 1)
	}
	return rs, nil
}

// forgetAfter drops what was read after seq.
func (q *countingQueue) forgetAfter(seq uint64) {
	for n := len(q.pending); n > 0 && q.pending[n-1].last > seq; n = len(q.pending) {
		if r := &q.pending[n-1]; r.first <= seq {
			r.last = seq
			return
		}
		q.pending = q.pending[:n-1]
	}
}

// Ack passes the acknowledgement on and counts the readings it covers.
func (q *countingQueue) Ack(seq uint64) error {
	if err := q.next.Ack(seq); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	done := 0
	for _, r := range q.pending {
		if r.first > seq {
			break
		}
		if r.last > seq {
			r.c.acked.Add(seq - r.first + 1)
			q.pending[done].first = seq + 1
			break
		}
		r.c.acked.Add(r.last - r.first + 1)
		done++
	}
	q.pending = q.pending[:copy(q.pending, q.pending[done:])]
	return nil
}
