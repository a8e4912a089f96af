package pubtest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"factorybridge"
)

// MemQueue is an in-memory factorybridge.Queue that records every Ack and
// checks that acknowledgements never go backwards.
type MemQueue struct {
	mu       sync.Mutex
	readings []factorybridge.Reading // committed, not acknowledged, by seq
	lastSeq  uint64
	acked    uint64
	acks     []uint64
	errs     []error       // contract violations seen (acks going backwards)
	changed  chan struct{} // closed and replaced on every append and ack
}

var _ factorybridge.Queue = (*MemQueue)(nil)

// NewMemQueue returns an empty queue.
func NewMemQueue() *MemQueue { return &MemQueue{changed: make(chan struct{})} }

// Append commits readings, assigning their seqs, and returns the last seq.
func (q *MemQueue) Append(rs ...factorybridge.Reading) uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, r := range rs {
		q.lastSeq++
		r.Seq = q.lastSeq
		q.readings = append(q.readings, r)
	}
	q.notify()
	return q.lastSeq
}

func (q *MemQueue) notify() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// ReadAfter appends to dst[:0] up to max readings after seq after, waiting
// for one until ctx ends.
func (q *MemQueue) ReadAfter(ctx context.Context, dst []factorybridge.Reading, after uint64, max int) ([]factorybridge.Reading, error) {
	for {
		q.mu.Lock()
		i, _ := slices.BinarySearchFunc(q.readings, after+1, func(r factorybridge.Reading, seq uint64) int {
			return cmp.Compare(r.Seq, seq)
		})
		out := append(dst[:0], q.readings[i:min(len(q.readings), i+max)]...)
		changed := q.changed
		q.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Ack deletes the readings through seq.
func (q *MemQueue) Ack(seq uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if seq < q.acked {
		q.errs = append(q.errs, fmt.Errorf("ack %d after ack %d: went backwards", seq, q.acked))
	}
	q.acked = seq
	q.acks = append(q.acks, seq)
	i, _ := slices.BinarySearchFunc(q.readings, seq+1, func(r factorybridge.Reading, seq uint64) int {
		return cmp.Compare(r.Seq, seq)
	})
	q.readings = q.readings[i:]
	q.notify()
	return nil
}

// AckCount returns how many times Ack was called.
func (q *MemQueue) AckCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.acks)
}

// WaitAcked waits until every seq <= seq was acknowledged.
func (q *MemQueue) WaitAcked(t testing.TB, seq uint64, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		q.mu.Lock()
		acked, changed := q.acked, q.changed
		q.mu.Unlock()
		if acked >= seq {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("acked through %d after %v; want %d", acked, timeout, seq)
		}
	}
}

// Check fails the test on contract violations.
func (q *MemQueue) Check(t testing.TB) {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, err := range q.errs {
		t.Error(err)
	}
}

// Depth is the number of readings not yet acknowledged.
func (q *MemQueue) Depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.readings)
}
