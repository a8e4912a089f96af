package buffer

import (
	"bytes"
	"context"
	"testing"
	"time"

	fb "factorybridge"
)

func (h *harness) readConsumer(after uint64) []fb.Reading {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rs, err := h.buf.ReadConsumer(ctx, nil, after, 1<<20)
	if err != nil {
		h.t.Fatalf("read consumer after %d: %v", after, err)
	}
	return rs
}

func (h *harness) save(name string, cursor uint64, state []byte, recs []fb.Reading) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.buf.SaveConsumer(ctx, name, cursor, state, recs); err != nil {
		h.t.Fatalf("save consumer: %v", err)
	}
}

func oeeEntry(text string) fb.Reading {
	return fb.Reading{Name: "line1", Line: "line1", Class: fb.ClassOEE, Value: fb.TextValue(fb.TypeString, text)}
}

func TestConsumerStateCursorAndRecordsCommitTogether(t *testing.T) {
	path := testPath(t)
	h := open(t, Options{Path: path})
	if cur, st, err := h.buf.LoadConsumer("oee"); err != nil || cur != 0 || st != nil {
		t.Fatalf("fresh LoadConsumer = %d, %q, %v; want 0, nil, nil", cur, st, err)
	}
	h.append(loadReadings(10, 2))
	h.save("oee", 10, []byte("state@10"), []fb.Reading{oeeEntry(`{"kind":"hour"}`)})
	if got := h.buf.Stats().LastSeq; got != 11 {
		t.Fatalf("LastSeq after save = %d, want 11 (the record's seq)", got)
	}
	h.close()
	h = open(t, Options{Path: path})
	cur, st, err := h.buf.LoadConsumer("oee")
	if err != nil || cur != 10 || !bytes.Equal(st, []byte("state@10")) {
		t.Fatalf("LoadConsumer after reopen = %d, %q, %v; want 10, state@10", cur, st, err)
	}
	rs := h.readConsumer(cur)
	if len(rs) != 1 || rs[0].Seq != 11 || rs[0].Value.Str != `{"kind":"hour"}` || rs[0].Class != fb.ClassOEE {
		t.Fatalf("after the cursor: %+v, want the record at seq 11", rs)
	}
}

func TestConsumerCursorHoldsAckedSegments(t *testing.T) {
	path := testPath(t)
	h := open(t, Options{Path: path, CommitMaxReadings: 5})
	if _, _, err := h.buf.LoadConsumer("oee"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		h.append(loadReadings(5, 1))
	}
	if err := h.buf.Ack(20); err != nil {
		t.Fatal(err)
	}
	h.append(loadReadings(1, 1)) // a commit applies the ack
	if got := len(h.readConsumer(0)); got != 21 {
		t.Fatalf("consumer reads %d readings after 0 with the publisher's ack at 20, want 21", got)
	}
	if got := len(h.readAll(0, 100)); got != 1 {
		t.Fatalf("publisher reads %d, want 1: ReadAfter still skips what it acknowledged", got)
	}
	h.save("oee", 12, nil, nil)
	h.close()
	h = open(t, Options{Path: path})
	if _, _, err := h.buf.LoadConsumer("oee"); err != nil {
		t.Fatal(err)
	}
	rs := h.readConsumer(12)
	if len(rs) != 9 || rs[0].Seq != 13 {
		t.Fatalf("after reopen, consumer reads %d from seq %d, want 9 from 13", len(rs), rs[0].Seq)
	}
	h.save("oee", 21, nil, nil)
	if got := h.readConsumer(0); got[0].Seq != 21 {
		t.Fatalf("oldest kept after the consumer passed = seq %d, want 21 (its segment is not acknowledged)", got[0].Seq)
	}
}

func TestUnregisteredConsumerHoldsNothing(t *testing.T) {
	path := testPath(t)
	h := open(t, Options{Path: path, CommitMaxReadings: 5})
	if _, _, err := h.buf.LoadConsumer("old"); err != nil {
		t.Fatal(err)
	}
	h.append(loadReadings(5, 1))
	h.save("old", 0, nil, nil)
	h.close()
	h = open(t, Options{Path: path, CommitMaxReadings: 5}) // "old" is no longer loaded
	h.append(loadReadings(5, 1))
	if err := h.buf.Ack(10); err != nil {
		t.Fatal(err)
	}
	h.append(loadReadings(1, 1))
	if rs := h.readConsumer(0); rs[0].Seq != 11 {
		t.Fatalf("oldest kept = seq %d, want 11: a consumer nobody loaded must not hold segments", rs[0].Seq)
	}
}

func TestSaveConsumerRejectsCursorBeyondLastSeq(t *testing.T) {
	h := open(t, Options{Path: testPath(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.buf.SaveConsumer(ctx, "oee", 5, nil, nil); err == nil {
		t.Fatal("SaveConsumer with a cursor beyond the last sequence succeeded")
	}
}
