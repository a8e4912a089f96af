package mqtt

import (
	"context"
	"sync"
	"testing"

	"factorybridge"
	"factorybridge/publisher/internal/pubtest"
)

// scribblingQueue overwrites the slice it is handed before reading into
// it, so a loop that still needed a reading it handed back delivers
// garbage, and records whether each read got the last result's array back.
type scribblingQueue struct {
	*pubtest.MemQueue

	mu             sync.Mutex
	last           *factorybridge.Reading // first element of the last result's array
	reads, reused  int
	handedElsewise int // reads after the first result that got another array
}

func (q *scribblingQueue) ReadAfter(ctx context.Context, dst []factorybridge.Reading, after uint64, max int) ([]factorybridge.Reading, error) {
	full := dst[:cap(dst)]
	for i := range full {
		full[i] = factorybridge.Reading{Seq: 1 << 60, Name: "scribbled"}
	}
	q.mu.Lock()
	if q.last != nil {
		if len(full) > 0 && &full[0] == q.last {
			q.reused++
		} else {
			q.handedElsewise++
		}
	}
	q.mu.Unlock()
	rs, err := q.MemQueue.ReadAfter(ctx, dst, after, max)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reads++
	if len(rs) > 0 {
		q.last = &rs[:1][0]
	}
	return rs, err
}

// TestReadsIntoTheLastBatch: the session hands each read the last batch's
// slice, and nothing of that batch is needed any more by then.
func TestReadsIntoTheLastBatch(t *testing.T) {
	b := startBroker(t)
	q := &scribblingQueue{MemQueue: pubtest.NewMemQueue()}
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(24), 3000))
	last := q.Append(want...)
	opts := testOptions(t, b.url(), q)
	opts.ReadBatch = 100
	runPublisher(t, opts)

	q.WaitAcked(t, last, waitLong)
	b.rec.waitReadings(t, len(want), waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
	q.Check(t)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.reused < len(want)/opts.ReadBatch-1 || q.handedElsewise > 0 {
		t.Errorf("%d reads, %d into the last batch's array, %d into another; want every read after the first into it",
			q.reads, q.reused, q.handedElsewise)
	}
}
