package mqtt

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"factorybridge"
	"factorybridge/publisher"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

func TestDeliversEveryReadingOnceInOrder(t *testing.T) {
	for _, enc := range []string{wire.EncodingCompact, wire.EncodingFlat} {
		t.Run(enc, func(t *testing.T) {
			b := startBroker(t)
			q := pubtest.NewMemQueue()
			want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(24), 5000))
			last := q.Append(want...)
			opts := testOptions(t, b.url(), q)
			opts.Encoding = enc
			p := runPublisher(t, opts)

			q.WaitAcked(t, last, waitLong)
			b.rec.waitReadings(t, len(want), waitLong)
			msgs := b.rec.decoded(t)
			pubtest.CheckDelivery(t, msgs, want, uint64(len(want)))
			for _, m := range b.rec.messages() {
				if m.qos != 1 || m.retain || len(m.payload) > opts.MaxMessageBytes {
					t.Fatalf("message on %s: qos %d retain %v size %d", m.topic, m.qos, m.retain, len(m.payload))
				}
				if !strings.HasPrefix(m.topic, "factorybridge/bridge-1/line") {
					t.Fatalf("topic %q", m.topic)
				}
			}
			q.Check(t)
			st := p.Stats()
			if st.ReadingsAcked != uint64(len(want)) || st.AckedSeq != last || st.Reconnects != 0 || !st.Connected {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestQoS0AcksWhenWritten(t *testing.T) {
	b := startBroker(t)
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(10), 2000))
	last := q.Append(want...)
	opts := testOptions(t, b.url(), q)
	qos := 0
	opts.QoS = &qos
	runPublisher(t, opts)

	q.WaitAcked(t, last, waitLong)
	b.rec.waitReadings(t, len(want), waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
	for _, m := range b.rec.messages() {
		if m.qos != 0 {
			t.Fatalf("message with qos %d; want 0", m.qos)
		}
	}
}

func TestAckOnlyAfterPuback(t *testing.T) {
	b := startBroker(t)
	px := startProxy(t, b.addr)
	px.setMode(ackHold)
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(6), 300))
	last := q.Append(want...)
	p := runPublisher(t, testOptions(t, px.url(), q))

	// Every reading reached the broker and it answered every message, yet
	// nothing may have been acknowledged to the queue.
	b.rec.waitReadings(t, len(want), waitLong)
	px.waitHeld(t, len(b.rec.messages()), waitLong)
	if n := q.AckCount(); n != 0 {
		t.Fatalf("queue acknowledged %d times while PUBACKs were withheld", n)
	}
	if st := p.Stats(); st.InFlight == 0 || st.ReadingsAcked != 0 {
		t.Fatalf("stats while withheld: %+v", st)
	}
	px.release()
	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
	q.Check(t)
}

func TestMaxInflightRespected(t *testing.T) {
	b := startBroker(t)
	px := startProxy(t, b.addr)
	px.setMode(ackHold)
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(12), 3000))
	last := q.Append(want...)
	opts := testOptions(t, px.url(), q)
	opts.MaxInflight = 3
	p := runPublisher(t, opts)

	px.waitHeld(t, 3, waitLong)
	waitStats(t, p, "a full window", func(s publisher.Stats) bool { return s.InFlight == 3 })
	if st := p.Stats(); st.MessagesSent != 3 {
		t.Fatalf("with the window full: %+v", st)
	}
	px.release()
	q.WaitAcked(t, last, waitLong)
	if got := px.outstandingMax(); got > 3 {
		t.Fatalf("%d messages were outstanding at once; max_inflight is 3", got)
	}
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
}

func TestOversizedReadingIsRejectedAndAckedPast(t *testing.T) {
	b := startBroker(t)
	q := pubtest.NewMemQueue()
	nodes := pubtest.Nodes(2)
	rs := pubtest.Readings(nodes, 8) // node 0 at seqs 1, 3, 5, 7
	huge := factorybridge.TextValue(factorybridge.TypeString, strings.Repeat("x", 1<<20))
	rs[0].Value, rs[2].Value, rs[6].Value = huge, huge, huge // two episodes: seq 5 fits between
	last := q.Append(rs...)
	logger, logs := pubtest.CaptureLogger()
	opts := testOptions(t, b.url(), q)
	opts.Logger = logger
	p := runPublisher(t, opts)

	q.WaitAcked(t, last, waitLong)
	if got := p.Stats().ReadingsRejected; got != 3 {
		t.Errorf("rejected %d readings; want 3", got)
	}
	if got := strings.Count(logs.String(), "too large"); got != 2 {
		t.Errorf("logged %d rejections; want 2 (one per episode):\n%s", got, logs)
	}
	if !strings.Contains(logs.String(), "node="+nodes[0].Name) || !strings.Contains(logs.String(), "limit=4096") {
		t.Errorf("rejection log lacks node or limit:\n%s", logs)
	}
	b.rec.waitReadings(t, 5, waitLong)
	var got []uint64
	for _, m := range b.rec.decoded(t) {
		for _, r := range m.Readings {
			got = append(got, r.Seq)
		}
	}
	slices.Sort(got)
	if want := []uint64{2, 4, 5, 6, 8}; !slices.Equal(got, want) {
		t.Errorf("published seqs %v; want %v", got, want)
	}
}

func TestDrainFlushesPartialMessages(t *testing.T) {
	b := startBroker(t)
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(5), 50))
	last := q.Append(want...)
	opts := testOptions(t, b.url(), q)
	opts.MaxBatchDelay = time.Hour // only Drain sends these
	p := runPublisher(t, opts)

	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if st := p.Stats(); st.AckedSeq != last || st.InFlight != 0 {
		t.Fatalf("after Drain: %+v", st)
	}
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
}

func TestDrainTimesOutWithoutBroker(t *testing.T) {
	b := startBroker(t)
	b.stop()
	q := pubtest.NewMemQueue()
	q.Append(pubtest.Readings(pubtest.Nodes(2), 10)...)
	p := runPublisher(t, testOptions(t, b.url(), q))

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p.Drain(ctx); err == nil {
		t.Fatal("Drain succeeded without a broker")
	}
}
