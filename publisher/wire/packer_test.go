package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
)

// packAll packs rs (seqs set) into messages for one topic the way the
// session does, returning the messages and the readings it rejected.
func packAll(pk *Packer, rs []fb.Reading) (msgs [][]byte, rejected []fb.Reading) {
	now := time.Now()
	for i := range rs {
		r := &rs[i]
		b := pk.get("t")
		if b == nil {
			b = pk.start("t", now)
		}
		if pk.Add(b, r) {
			continue
		}
		if b.Count() > 0 {
			msgs = append(msgs, pk.Finish(b, nil))
			b = pk.start("t", now)
			if pk.Add(b, r) {
				continue
			}
		}
		pk.Release(b)
		rejected = append(rejected, *r)
	}
	if b := pk.get("t"); b != nil {
		msgs = append(msgs, pk.Finish(b, nil))
	}
	return msgs, rejected
}

// get returns the topic's unsharded builder, or nil when none is being filled.
func (p *Packer) get(topic string) *Builder { return p.Builder(Slot{topic: topic}) }

// start returns an empty unsharded builder for topic, started at now.
func (p *Packer) start(topic string, now time.Time) *Builder { return p.Start(Slot{topic: topic}, now) }

// TestMessagesStayWithinMax packs random readings, awkward ones included,
// and checks every message: within the limit, valid JSON, an envelope that
// matches, and readings that decode to what went in. It packs at 512 bytes
// too, below MinMessageBytes: the packer works with any size that holds the
// envelope.
func TestMessagesStayWithinMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, enc := range []string{EncodingCompact, EncodingFlat} {
		for _, max := range []int{512, MinMessageBytes, 1000, 4096, 64 << 10} {
			rs := randomReadings(rng, 2000, max)
			pk := NewPacker("bridge \"ü\"", enc, max)
			msgs, rejected := packAll(pk, rs)
			for _, r := range rejected {
				if n := pk.SizeAlone(&r); n <= max {
					t.Fatalf("%s/%d: seq %d rejected but fits alone (%d bytes)", enc, max, r.Seq, n)
				}
			}
			got := checkMessages(t, msgs, max)
			t.Logf("%s/%d: %d messages, %d rejected", enc, max, len(msgs), len(rejected))
			if len(got)+len(rejected) != len(rs) {
				t.Fatalf("%s/%d: %d readings in messages + %d rejected; packed %d", enc, max, len(got), len(rejected), len(rs))
			}
			for _, r := range got {
				if a, b := flatJSON(&r), flatJSON(&rs[r.Seq-1]); a != b {
					t.Fatalf("%s/%d: round trip\n got %s\nwant %s", enc, max, a, b)
				}
			}
		}
	}
}

// checkMessages checks size and envelope of each message and returns all
// readings in them.
func checkMessages(t *testing.T, msgs [][]byte, max int) []fb.Reading {
	t.Helper()
	var out []fb.Reading
	for _, b := range msgs {
		if len(b) > max {
			t.Fatalf("message of %d bytes exceeds %d", len(b), max)
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", truncate(b))
		}
		m, err := DecodeMessage(b)
		if err != nil {
			t.Fatalf("%v: %s", err, truncate(b))
		}
		out = append(out, m.Readings...)
	}
	return out
}

// randomReadings returns n readings with seqs 1…n: random types, arrays,
// strings with invalid UTF-8 and control characters, missing timestamps,
// bad statuses, and now and then a value too large for max.
func randomReadings(rng *rand.Rand, n, max int) []fb.Reading {
	names := []string{"site/l1/s1/Temp", "site/l1/s1/Mode \"auto\"", "site/l2/s1/Ä", "site/l2/s2/x\xff"}
	rs := make([]fb.Reading, n)
	for i := range rs {
		r := &rs[i]
		r.Seq = uint64(i + 1)
		r.Name = names[rng.IntN(len(names))]
		r.NodeID, r.Server = "ns=2;s="+r.Name, "plc"
		r.Line, r.Station = lineAndStation(r.Name) // compact carries them in the name
		if rng.IntN(4) > 0 {
			r.SourceTime = time.UnixMilli(rng.Int64N(4e12)).UTC()
		}
		if rng.IntN(4) > 0 {
			r.ServerTime = time.UnixMilli(rng.Int64N(4e12)).UTC()
		}
		if rng.IntN(10) == 0 {
			r.Status = rng.Uint32()
		}
		r.Value = randomValue(rng)
		if rng.IntN(200) == 0 {
			r.Value = fb.TextValue(fb.TypeString, strings.Repeat("\x01", max/3))
		}
		if rng.IntN(3) == 0 { // placed on the bridge's clock (docs/clocks.md)
			r.BridgeTime = time.UnixMilli(rng.Int64N(4e12)).UTC()
		}
	}
	return rs
}

var randomTypes = []fb.Type{
	fb.TypeNull, fb.TypeBoolean, fb.TypeSByte, fb.TypeInt64, fb.TypeUInt64, fb.TypeFloat, fb.TypeDouble,
	fb.TypeString, fb.TypeDateTime, fb.TypeGUID, fb.TypeByteString, fb.TypeStatusCode, fb.TypeLocalizedText,
}

func randomValue(rng *rand.Rand) fb.Value {
	t := randomTypes[rng.IntN(len(randomTypes))]
	if t != fb.TypeNull && rng.IntN(8) == 0 {
		elems := make([]fb.Value, rng.IntN(6))
		for i := range elems {
			elems[i] = randomScalar(rng, t)
		}
		return fb.ArrayValue(t, elems)
	}
	return randomScalar(rng, t)
}

func randomScalar(rng *rand.Rand, t fb.Type) fb.Value {
	switch t.Kind() {
	case fb.KindFloat:
		f := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, rng.NormFloat64() * 1e6, math.SmallestNonzeroFloat64}[rng.IntN(6)]
		if t == fb.TypeFloat {
			f = float64(float32(f))
		}
		return fb.FloatValue(t, f)
	case fb.KindText, fb.KindBytes:
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return fb.TextValue(t, string(b))
	case fb.KindTime:
		return fb.TimeValue(time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)/100*100).UTC())
	case fb.KindNone:
		return fb.Value{}
	}
	return fb.Value{Type: t, Bits: rng.Uint64() >> rng.IntN(64)}
}

func TestBuildersArePerTopicAndReleased(t *testing.T) {
	pk := NewPacker("b", EncodingCompact, 4096)
	now := time.Now()
	r := exampleReadings()[1]
	for _, topic := range []string{"a", "b", "c"} {
		if !pk.Add(pk.start(topic, now), &r) {
			t.Fatal("reading does not fit")
		}
	}
	if pk.Oldest().Topic() != "a" || pk.get("b") == nil {
		t.Fatalf("builders by start: %v", pk.active)
	}
	pk.Finish(pk.get("a"), nil)
	if pk.Oldest().Topic() != "b" || pk.get("a") != nil {
		t.Fatal("finished builder still active")
	}
	pk.Reset()
	if pk.Oldest() != nil || len(pk.bySlot) != 0 || len(pk.free) > keptBuilders {
		t.Fatal("reset left builders")
	}
}

// TestBuilderDueAndHeld: Hold keeps the earliest time, a reused builder
// starts with none, and Held counts the readings of active builders only.
func TestBuilderDueAndHeld(t *testing.T) {
	pk := NewPacker("b", EncodingCompact, 4096)
	now := time.Now()
	r := exampleReadings()[1]
	a, b := pk.start("a", now), pk.start("b", now)
	for _, x := range []*Builder{a, a, b} {
		if !pk.Add(x, &r) {
			t.Fatal("reading does not fit")
		}
	}
	a.Hold(now.Add(time.Second))
	a.Hold(now.Add(time.Millisecond))
	a.Hold(now.Add(time.Hour))
	a.HoldUntil(now.Add(time.Minute))
	a.HoldUntil(now.Add(time.Second))
	if got := a.Due(); !got.Equal(now.Add(time.Millisecond)) {
		t.Errorf("due %v after start, want the earliest, 1ms", got.Sub(now))
	}
	if got := a.Until(); !got.Equal(now.Add(time.Second)) {
		t.Errorf("until %v after start, want the earliest, 1s", got.Sub(now))
	}
	if !b.Due().IsZero() {
		t.Errorf("due %v without Hold", b.Due())
	}
	var topics []string
	for x := range pk.Builders() {
		topics = append(topics, x.Topic())
	}
	if got, want := strings.Join(topics, ","), "a,b"; got != want || pk.Held() != 3 {
		t.Fatalf("builders %s, held %d; want %s, 3", got, pk.Held(), want)
	}
	pk.Finish(a, nil)
	if c := pk.start("c", now); pk.Held() != 1 || !c.Due().IsZero() || !c.Until().IsZero() {
		t.Fatalf("after finishing: held %d, a reused builder due %v until %v", pk.Held(), c.Due(), c.Until())
	}
	pk.Reset()
	if pk.Held() != 0 {
		t.Fatalf("held %d after reset", pk.Held())
	}
}

func flatJSON(r *fb.Reading) string { return string(AppendFlatReading(nil, r)) }

func truncate(b []byte) string {
	if len(b) > 500 {
		return fmt.Sprintf("%s… (%d bytes)", b[:500], len(b))
	}
	return string(b)
}
