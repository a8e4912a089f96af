package wire

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv/pubsubjson"
)

// psPackAll packs rs as packAll does and returns the messages as a
// transport sends them: each data message after the metadata it needs.
func psPackAll(pk *Packer, rs []fb.Reading) (msgs [][]byte, rejected []fb.Reading) {
	data, rejected := packAllWith(pk, rs, func(b []byte) [][]byte { return append(pk.TakeMetadata(), b) })
	return data, rejected
}

// packAllWith is packAll, each finished message passed through emit.
func packAllWith(pk *Packer, rs []fb.Reading, emit func([]byte) [][]byte) (msgs [][]byte, rejected []fb.Reading) {
	now := time.Now()
	for i := range rs {
		r := &rs[i]
		topic := "t"
		if r.Class == fb.ClassOEE {
			topic = "oee"
		}
		slot := pk.SlotOf(topic, r)
		b := pk.Builder(slot)
		if b == nil {
			b = pk.Start(slot, now)
		}
		if pk.Add(b, r) {
			continue
		}
		if b.Count() > 0 {
			msgs = append(msgs, emit(pk.Finish(b, nil))...)
			b = pk.Start(slot, now)
			if pk.Add(b, r) {
				continue
			}
		}
		pk.Release(b)
		rejected = append(rejected, *r)
	}
	for b := pk.Oldest(); b != nil; b = pk.Oldest() {
		msgs = append(msgs, emit(pk.Finish(b, nil))...)
	}
	return msgs, rejected
}

// TestPubSubRoundTrip packs random readings and OEE records in
// pubsub-json and decodes every message with pubsubjson, the decoder
// written apart from this encoder from the specification: every reading
// comes back as it went in, every message within the limit, and every
// DataSetMessage after its writer's metadata.
func TestPubSubRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, max := range []int{MinMessageBytes, 4096, 64 << 10} {
		rs := append(randomReadings(rng, 3000, max), oeeEntries(rng, 40)...)
		for i := range rs {
			rs[i].Seq = uint64(i + 1)
			atWidth(&rs[i].Value)
			rs[i].BridgeTime = time.Time{} // Part 14 has no place for it: pubsub-json does not carry it
		}
		pk := NewPacker("bridge \"ü\"", EncodingPubSubJSON, max)
		msgs, rejected := psPackAll(pk, rs)
		for _, r := range rejected {
			if n := pk.SizeAlone(&r); n <= max {
				t.Fatalf("%d: seq %d rejected but fits alone (%d bytes)", max, r.Seq, n)
			}
		}
		got := decodeAll(t, msgs, max)
		if len(got)+len(rejected) != len(rs) {
			t.Fatalf("%d: %d decoded + %d rejected of %d", max, len(got), len(rejected), len(rs))
		}
		for _, r := range got {
			want := rs[r.Seq-1]
			if r.Class == fb.ClassOEE {
				if r.Value.Str != want.Value.Str || r.Name != want.Name || r.Line != want.Line || r.Station != want.Station {
					t.Fatalf("%d: OEE record\n got %+v\nwant %+v", max, r, want)
				}
				continue
			}
			if a, b := flatJSON(&r), flatJSON(&want); a != b {
				t.Fatalf("%d: round trip\n got %s\nwant %s", max, a, b)
			}
		}
		t.Logf("%d: %d messages, %d readings, %d rejected", max, len(msgs), len(got), len(rejected))
	}
}

// atWidth makes the random value one an OPC UA server sends: integers and
// StatusCodes within their type's width (randomScalar fills 64 bits).
func atWidth(v *fb.Value) {
	for i := range v.Elems {
		atWidth(&v.Elems[i])
	}
	switch v.Type {
	case fb.TypeSByte:
		v.Bits = uint64(int64(int8(v.Bits)))
	case fb.TypeStatusCode:
		v.Bits = uint64(uint32(v.Bits))
	}
}

// decodeAll decodes messages in order and checks their sizes.
func decodeAll(t *testing.T, msgs [][]byte, max int) []fb.Reading {
	t.Helper()
	dec := pubsubjson.NewDecoder()
	var out []fb.Reading
	for _, b := range msgs {
		rs, nm, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("%v: %s", err, truncate(b))
		}
		if len(b) > max && nm.MessageType == pubsubjson.TypeData {
			t.Fatalf("message of %d bytes exceeds %d: %s", len(b), max, truncate(b))
		}
		out = append(out, rs...)
	}
	return out
}

// oeeEntries are OEE records as the buffer holds them.
func oeeEntries(rng *rand.Rand, n int) []fb.Reading {
	var out []fb.Reading
	for i := range n {
		station := []string{"", "assembly", "press"}[rng.IntN(3)]
		kind := []string{"rolling", "shift", "hour"}[rng.IntN(3)]
		rec := map[string]any{"kind": kind, "line": "line1", "start": "2024-03-04T05:00:00Z", "end": "2024-03-04T13:00:00Z",
			"oee": []any{nil, 0.7479}[rng.IntN(2)], "total": i, "flags": []string{"data_gap"}}
		if station != "" {
			rec["station"] = station
		}
		b, _ := json.Marshal(rec)
		out = append(out, fb.Reading{Class: fb.ClassOEE, Line: "line1", Station: station,
			Name: fb.OEEName("line1", station), Value: fb.TextValue(fb.TypeString, string(b))})
	}
	return out
}

// TestPubSubMetadata: a writer's metadata goes out before its first data,
// again when its field set changes (a new node; a node's type: a new
// MajorVersion), and after Reset (a new connection); SequenceNumbers count
// per writer across messages.
func TestPubSubMetadata(t *testing.T) {
	pk := NewPacker("b", EncodingPubSubJSON, 64<<10)
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pk.SetClock(func() time.Time { return clock })
	r := func(seq uint64, name string, v fb.Value) fb.Reading {
		return fb.Reading{Seq: seq, Name: "site/l1/s1/" + name, Line: "l1", Station: "s1", NodeID: "ns=2;s=" + name, Server: "plc", Value: v}
	}
	send := func(rs ...fb.Reading) (meta [][]byte, data []byte) {
		b := pk.Start(pk.SlotOf("t", &rs[0]), time.Now())
		for i := range rs {
			if !pk.Add(b, &rs[i]) {
				t.Fatalf("reading %d does not fit", i)
			}
		}
		data = pk.Finish(b, nil)
		return pk.TakeMetadata(), data
	}
	dec := pubsubjson.NewDecoder()
	decode := func(msgs ...[]byte) (versions [][2]uint32, seqs []uint32) {
		for _, m := range msgs {
			_, nm, err := dec.Decode(m)
			if err != nil {
				t.Fatalf("%v: %s", err, m)
			}
			if nm.MetaData != nil {
				versions = append(versions, [2]uint32{nm.MetaData.MetaData.Major, nm.MetaData.MetaData.Minor})
			}
			for _, d := range nm.Messages {
				seqs = append(seqs, d.SequenceNumber)
			}
		}
		return versions, seqs
	}
	v0 := uint32(clock.Sub(versionEpoch) / time.Second)
	steps := []struct {
		readings []fb.Reading
		versions [][2]uint32
		seqs     []uint32
	}{
		{[]fb.Reading{r(1, "a", fb.IntValue(fb.TypeInt32, 1)), r(2, "a", fb.IntValue(fb.TypeInt32, 2))}, [][2]uint32{{v0, v0}}, []uint32{1, 2}},
		{[]fb.Reading{r(3, "a", fb.IntValue(fb.TypeInt32, 3))}, nil, []uint32{3}},
		{[]fb.Reading{r(4, "b", fb.Value{})}, [][2]uint32{{v0, v0 + 1}}, []uint32{4}},
		{[]fb.Reading{r(5, "a", fb.FloatValue(fb.TypeDouble, 1))}, [][2]uint32{{v0 + 2, v0 + 2}}, []uint32{5}},
	}
	for i, st := range steps {
		meta, data := send(st.readings...)
		versions, seqs := decode(append(meta, data)...)
		if !equalSlices(versions, st.versions) || !equalSlices(seqs, st.seqs) {
			t.Errorf("step %d: metadata versions %v, SequenceNumbers %v; want %v, %v", i, versions, seqs, st.versions, st.seqs)
		}
	}
	pk.Reset()
	if meta, _ := send(r(6, "a", fb.FloatValue(fb.TypeDouble, 2))); len(meta) != 1 {
		t.Errorf("after Reset %d metadata messages, want the writer's again", len(meta))
	}
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestExamplePubSub keeps the pubsub-json examples in
// docs/message-format.md equal to what the encoder produces (run with
// -update, then paste testdata/example-pubsub-*.json into the doc).
func TestExamplePubSub(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "message-format.md"))
	if err != nil {
		t.Fatal(err)
	}
	pk := NewPacker("munich-1", EncodingPubSubJSON, exampleMaxBytes)
	pk.SetClock(func() time.Time { return time.Date(2024, 11, 28, 6, 30, 15, 0, time.UTC) })
	msgs, _ := psPackAll(pk, exampleReadings())
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want the metadata and the data", len(msgs))
	}
	if got := decodeAll(t, msgs, exampleMaxBytes); len(got) != len(exampleReadings()) {
		t.Fatalf("%d readings decoded", len(got))
	}
	for i, name := range []string{"metadata", "data"} {
		pretty := []byte(indent(msgs[i]))
		golden := filepath.Join("testdata", "example-pubsub-"+name+".json")
		if *update {
			if err := os.WriteFile(golden, pretty, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pretty, want) {
			t.Errorf("%s: encoder output differs from %s:\n%s", name, golden, pretty)
		}
		if !strings.Contains(string(doc), string(pretty)) {
			t.Errorf("docs/message-format.md lacks the current pubsub-json %s example:\n%s", name, pretty)
		}
	}
}
