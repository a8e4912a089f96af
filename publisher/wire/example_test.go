package wire

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
)

var update = flag.Bool("update", false, "rewrite testdata/example-*.json from the encoder")

// exampleMaxBytes is the message size of the examples: the MQTT
// transport's default, so that they are one message each.
const exampleMaxBytes = 256 << 10

// exampleReadings are the readings of the examples in docs/message-format.md.
func exampleReadings() []fb.Reading {
	src := time.Date(2024, 11, 28, 6, 30, 15, 120_000_000, time.UTC)
	base := fb.Reading{Server: "plc-assembly", Line: "line1", Station: "assembly"}
	status, temp, torque := base, base, base
	status.Name, status.NodeID = "munich/line1/assembly/Status", "ns=2;s=Assembly.Status"
	temp.Name, temp.NodeID = "munich/line1/assembly/Temperature", "ns=2;s=Assembly.Temp"
	torque.Name, torque.NodeID = "munich/line1/assembly/Torque", "ns=2;i=5001"
	at := func(r fb.Reading, seq uint64, ms int, v fb.Value) fb.Reading {
		r.Seq, r.Value = seq, v
		r.SourceTime = src.Add(time.Duration(ms) * time.Millisecond)
		r.ServerTime = r.SourceTime.Add(3 * time.Millisecond)
		return r
	}
	rs := []fb.Reading{
		at(status, 1041, 0, fb.IntValue(fb.TypeInt32, 3)),
		at(temp, 1042, 0, fb.FloatValue(fb.TypeDouble, 21.5)),
		at(torque, 1043, 5, fb.ArrayValue(fb.TypeFloat, []fb.Value{
			fb.FloatValue(fb.TypeFloat, 12.5), fb.FloatValue(fb.TypeFloat, math.Inf(1))})),
		at(status, 1044, 500, fb.IntValue(fb.TypeInt32, 4)),
		at(temp, 1045, 500, fb.Value{}),
	}
	rs[4].Status = 0x808A0000 // BadNotConnected, no value
	rs[4].SourceTime = time.Time{}
	return rs
}

// TestExampleMessages keeps the examples in docs/message-format.md equal to
// what the encoder produces (run with -update after changing the encoder,
// then paste testdata/example-*.json into the doc).
func TestExampleMessages(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "message-format.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{EncodingCompact, EncodingFlat} {
		pk := NewPacker("munich-1", enc, exampleMaxBytes)
		msgs, _ := packAll(pk, exampleReadings())
		if len(msgs) != 1 {
			t.Fatalf("%d messages", len(msgs))
		}
		if !json.Valid(msgs[0]) {
			t.Fatalf("invalid JSON %s", msgs[0])
		}
		pretty := bytes.NewBufferString(indent(msgs[0]))
		golden := filepath.Join("testdata", "example-"+enc+".json")
		if *update {
			if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pretty.Bytes(), want) {
			t.Errorf("%s: encoder output differs from %s:\n%s", enc, golden, pretty.Bytes())
		}
		if !strings.Contains(string(doc), pretty.String()) {
			t.Errorf("docs/message-format.md lacks the current %s example:\n%s", enc, pretty.Bytes())
		}
	}
}

// indent lays out a valid JSON message one member per line, keeping arrays
// without objects (samples, array values) on one line as they are sent.
func indent(b []byte) string {
	var out strings.Builder
	depth := 0
	newline := func() { out.WriteString("\n" + strings.Repeat("  ", depth)) }
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"', '[':
			end, hasObject := scanJSON(b, i)
			if c == '"' || !hasObject {
				out.Write(b[i:end])
				i = end - 1
				continue
			}
			fallthrough
		case '{':
			out.WriteByte(c)
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			out.WriteByte(c)
		case ',':
			out.WriteByte(c)
			newline()
		case ':':
			out.WriteString(": ")
		default:
			out.WriteByte(c)
		}
	}
	return out.String() + "\n"
}

// scanJSON returns the end of the string or array starting at b[i] and
// whether an object occurs inside it.
func scanJSON(b []byte, i int) (end int, hasObject bool) {
	depth, inString := 0, false
	for j := i; j < len(b); j++ {
		switch c := b[j]; {
		case inString && c == '\\':
			j++
		case c == '"':
			inString = !inString
			if !inString && depth == 0 {
				return j + 1, hasObject
			}
		case inString:
		case c == '{':
			hasObject = true
		case c == '[':
			depth++
		case c == ']':
			if depth--; depth == 0 {
				return j + 1, hasObject
			}
		}
	}
	return len(b), hasObject
}

func ExampleDecodeMessage() {
	payload := []byte(`{"v":1,"bridge":"munich-1","type":"readings","encoding":"compact",` +
		`"first":7,"last":8,"count":2,"t0":1732775415120,"nodes":[{"name":"munich/line1/assembly/Temperature",` +
		`"id":"ns=2;s=Assembly.Temp","server":"plc-assembly",` +
		`"type":"Double","samples":[[0,0,3,21.5],[1,null,503,"NaN",1083310080]]}]}`)
	m, err := DecodeMessage(payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range m.Readings {
		fmt.Println(m.Bridge, r.Seq, r.Name, r.Value.Float(), r.IsGood(), r.SourceTime.Format(time.RFC3339Nano))
	}
	// Output:
	// munich-1 7 munich/line1/assembly/Temperature 21.5 true 2024-11-28T06:30:15.12Z
	// munich-1 8 munich/line1/assembly/Temperature NaN false 0001-01-01T00:00:00Z
}
