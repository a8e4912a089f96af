package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	fb "factorybridge"
)

// TestCompactSizeWithBridgeTimes: the size a compact body counts is the
// size it writes, whichever of its samples carry a bridge time, so a
// message never exceeds its limit because of them.
func TestCompactSizeWithBridgeTimes(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 1))
	c := newCompactBody()
	for i, r := range randomReadings(rng, 500, 1<<20) {
		if !c.tryAdd(&r, 1<<30) {
			t.Fatalf("reading %d refused", i)
		}
		if got, want := len(c.appendTo(nil)), c.size(); got != want {
			t.Fatalf("after reading %d: %d bytes written, %d counted", i, got, want)
		}
	}
}

// TestBridgeTimeOnTheWire: a reading's bridge time travels beside its
// source time, in both encodings, and a message without one is what it
// was before bridge times existed.
func TestBridgeTimeOnTheWire(t *testing.T) {
	src := time.Date(2026, 3, 4, 7, 0, 0, 120_000_000, time.UTC)
	rs := []fb.Reading{
		{Seq: 1, Name: "l/s/a", NodeID: "ns=2;s=a", Server: "plc", Line: "l", Station: "s",
			Value: fb.IntValue(fb.TypeInt32, 3), SourceTime: src, ServerTime: src},
		{Seq: 2, Name: "l/s/a", NodeID: "ns=2;s=a", Server: "plc", Line: "l", Station: "s",
			Value: fb.IntValue(fb.TypeInt32, 4), SourceTime: src.Add(time.Second), ServerTime: src.Add(time.Second),
			BridgeTime: src.Add(2*time.Hour + time.Second)},
	}
	for _, tc := range []struct {
		enc, want string
	}{
		{EncodingCompact, `"samples":[[0,0,0,3],[1,1000,1000,4]],"bridge_times":[null,7201000]}`},
		{EncodingFlat, `"server_time":"2026-03-04T07:00:01.12Z","bridge_time":"2026-03-04T09:00:01.12Z"}`},
	} {
		msgs, _ := packAll(NewPacker("b", tc.enc, 4096), append([]fb.Reading(nil), rs...))
		if len(msgs) != 1 || !bytes.Contains(msgs[0], []byte(tc.want)) {
			t.Errorf("%s: %s, want it to hold %s", tc.enc, msgs, tc.want)
		}
		for _, r := range checkMessages(t, msgs, 4096) {
			if !r.BridgeTime.Equal(rs[r.Seq-1].BridgeTime) {
				t.Errorf("%s: seq %d decodes with bridge time %v, want %v", tc.enc, r.Seq, r.BridgeTime, rs[r.Seq-1].BridgeTime)
			}
		}
		msgs, _ = packAll(NewPacker("b", tc.enc, 4096), rs[:1])
		if bytes.Contains(msgs[0], []byte("bridge_time")) {
			t.Errorf("%s: a message without bridge times names them: %s", tc.enc, msgs[0])
		}
	}
}
