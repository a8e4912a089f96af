package wire

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
)

// packSlots packs rs as a transport does, by each reading's slot, and
// returns the messages in the order their builders were finished.
func packSlots(t *testing.T, pk *Packer, rs []fb.Reading) [][]byte {
	t.Helper()
	now := time.Now()
	var msgs [][]byte
	for i := range rs {
		slot := pk.SlotOf("t", &rs[i])
		b := pk.Builder(slot)
		if b == nil {
			b = pk.Start(slot, now)
		}
		if !pk.Add(b, &rs[i]) {
			t.Fatalf("reading %d does not fit an example message", i)
		}
	}
	for b := pk.Oldest(); b != nil; b = pk.Oldest() {
		msgs = append(msgs, pk.Finish(b, nil))
	}
	return msgs
}

// exampleMarked are a live reading, a heartbeat and two backfilled readings
// of one node, and an event: the examples of marks and events in
// docs/message-format.md.
func exampleMarked() []fb.Reading {
	src := time.Date(2024, 11, 28, 6, 30, 15, 120_000_000, time.UTC)
	r := fb.Reading{Name: "munich/line1/assembly/Status", NodeID: "ns=2;s=Assembly.Status", Server: "plc-assembly",
		Line: "line1", Station: "assembly"}
	at := func(seq uint64, class fb.Class, src, srv time.Time, v int64) fb.Reading {
		x := r
		x.Seq, x.Class, x.SourceTime, x.ServerTime, x.Value = seq, class, src, srv, fb.IntValue(fb.TypeInt32, v)
		return x
	}
	ev := fb.Reading{Seq: 2005, Class: fb.ClassEvent, Name: "munich/line1/assembly/events", NodeID: "i=2253",
		Server: "plc-assembly", Line: "line1", Station: "assembly", SourceTime: src.Add(90 * time.Second),
		ServerTime: src.Add(90*time.Second + 2*time.Millisecond),
		Value: fb.TextValue(fb.TypeString, `{"EventId":"q83vEjRWeJA=","EventType":"nsu=http://opcfoundation.org/UA/Station/;s=FaultEventType",`+
			`"SourceName":"assembly","Time":"2024-11-28T06:31:45.12Z","Message":"assembly: fault for 23000 ms","Severity":700}`)}
	return []fb.Reading{
		at(2001, fb.ClassReading, src, src.Add(3*time.Millisecond), 1),
		at(2002, fb.ClassHeartbeat, src, src.Add(10*time.Second), 1),
		at(2003, fb.ClassBackfill, src.Add(40*time.Second), src.Add(40*time.Second), 2),
		at(2004, fb.ClassBackfill, src.Add(50*time.Second), src.Add(50*time.Second), 4),
		ev,
	}
}

// TestMarksAndEventsRoundTrip checks that both encodings keep the marks of
// heartbeats and backfilled readings, and that events decode to the entries
// they were made from.
func TestMarksAndEventsRoundTrip(t *testing.T) {
	for _, enc := range []string{EncodingCompact, EncodingFlat} {
		want := exampleMarked()
		var got []fb.Reading
		for _, msg := range packSlots(t, NewPacker("munich-1", enc, exampleMaxBytes), exampleMarked()) {
			m, err := DecodeMessage(msg)
			if err != nil {
				t.Fatalf("%s: decode %s: %v", enc, msg, err)
			}
			got = append(got, m.Readings...)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d entries, want %d", enc, len(got), len(want))
		}
		for i := range want {
			w := want[i]
			if enc == EncodingCompact && w.Class != fb.ClassEvent { // compact keeps milliseconds
				w.SourceTime, w.ServerTime = w.SourceTime.Truncate(time.Millisecond), w.ServerTime.Truncate(time.Millisecond)
			}
			if !reflect.DeepEqual(got[i], w) {
				t.Errorf("%s: entry %d\n got %+v\nwant %+v", enc, i, got[i], w)
			}
		}
	}
}

func TestEventThatIsNotJSONStaysValid(t *testing.T) {
	r := exampleMarked()[4]
	r.Value.Str = `{"EventId":`
	var v map[string]any
	if err := json.Unmarshal(appendEventRecord(nil, &r), &v); err != nil || v["error"] == nil || v["seq"] != 2005.0 {
		t.Fatalf("damaged event encodes as %s (%v)", appendEventRecord(nil, &r), err)
	}
}

// TestExampleMarksAndEvents keeps the examples of marked readings and of an
// event message in docs/message-format.md equal to the encoder's output.
func TestExampleMarksAndEvents(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "message-format.md"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := packSlots(t, NewPacker("munich-1", EncodingCompact, exampleMaxBytes), exampleMarked())
	for i, name := range []string{"example-marks.json", "example-event.json"} {
		pretty := indent(msgs[i])
		golden := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(golden, []byte(pretty), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal([]byte(pretty), want) {
			t.Errorf("encoder output differs from %s:\n%s", golden, pretty)
		}
		if !strings.Contains(string(doc), pretty) {
			t.Errorf("docs/message-format.md lacks the current %s:\n%s", name, pretty)
		}
	}
}
