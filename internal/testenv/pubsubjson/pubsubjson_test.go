package pubsubjson

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
)

// TestSpecExample reads the example of OPC 10000-14 v1.05, A.3.4.5
// "Examples" (the JSON-NetworkMessage layout of A.3.4, Tables A.20 and
// A.21, over DataSet1–3 of A.3.1, Tables A.13–A.15), as published at
// reference.opcfoundation.org/Core/Part14/v105/docs/A.3.4.5.
func TestSpecExample(t *testing.T) {
	b, err := os.ReadFile("testdata/part14-A.3.4.5.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "9279c0b3-da88-45a4-af74-451cebf82db0" || m.MessageType != TypeData || m.PublisherID != "MyPublisher" || len(m.Messages) != 3 {
		t.Fatalf("network message %+v", m)
	}
	stamp := time.Date(2021, 9, 27, 18, 45, 19, 555e6, time.UTC)
	for i, want := range []struct {
		id     uint16
		seq    uint32
		status uint32
		fields int
	}{{101, 68468, 0, 4}, {102, 25460, 1073741824, 3}, {103, 66915, 0, 14}} {
		d := m.Messages[i]
		if d.WriterID != want.id || d.SequenceNumber != want.seq || d.MinorVersion != 672341762 || !d.Timestamp.Equal(stamp) ||
			d.Status != want.status || d.HasStatus != (want.status != 0) || len(d.Fields) != want.fields {
			t.Errorf("DataSetMessage %d: %+v", i, d)
		}
	}
	// DataSet1 and DataSet3's scalars, decoded by their types (Tables A.13, A.15).
	for _, tc := range []struct {
		msg, field int
		typ        fb.Type
		want       fb.Value
	}{
		{0, 0, fb.TypeBoolean, fb.BoolValue(true)},
		{0, 1, fb.TypeDouble, fb.FloatValue(fb.TypeDouble, 25.5)},
		{0, 2, fb.TypeUInt32, fb.UintValue(fb.TypeUInt32, 0)},
		{0, 3, fb.TypeString, fb.TextValue(fb.TypeString, "The system is running normally (1)")},
		{2, 2, fb.TypeInt64, fb.IntValue(fb.TypeInt64, 1)},
		{2, 4, fb.TypeUInt64, fb.UintValue(fb.TypeUInt64, 1)},
		{2, 6, fb.TypeDateTime, fb.TimeValue(time.Date(2021, 9, 14, 7, 14, 30, 0, time.UTC))},
		{2, 8, fb.TypeGUID, fb.TextValue(fb.TypeGUID, "ebfc352a-3142-4b99-9bbe-89a517d6a77e")},
		{2, 9, fb.TypeStatusCode, fb.UintValue(fb.TypeStatusCode, 0x80000000)},
		{2, 10, fb.TypeLocalizedText, fb.TextValue(fb.TypeLocalizedText, "Localized text 1")},
		{2, 11, fb.TypeByteString, fb.TextValue(fb.TypeByteString, "\x00\x01\x02")},
	} {
		f := m.Messages[tc.msg].Fields[tc.field]
		got, err := Value(FieldMetaData{Name: f.Name, BuiltInType: byte(tc.typ), ValueRank: -1}, f.Value)
		if err != nil || got.Type != tc.want.Type || got.Bits != tc.want.Bits || got.Str != tc.want.Str {
			t.Errorf("%s: %+v %v, want %+v", f.Name, got, err, tc.want)
		}
	}
	arr, err := Value(FieldMetaData{Name: "Measurements", BuiltInType: byte(fb.TypeInt32), ValueRank: 1}, m.Messages[1].Fields[2].Value)
	if err != nil || len(arr.Elems) != 3 || arr.Elems[2].Int() != 20010 {
		t.Errorf("Measurements %+v %v", arr, err)
	}
}

// TestFieldMetaData reads the first field of the DataSetMetaData example
// of A.3.1 in both published editions (the rest of the example was not
// retrievable): 1.05.03 writes the DataType {"Id": 1}, later ones "i=1".
func TestFieldMetaData(t *testing.T) {
	for _, dt := range []string{`{"Id": 1}`, `"i=1"`} {
		raw := `{"Name": "Active", "FieldFlags": 0, "BuiltInType": 1, "DataType": ` + dt +
			`, "ValueRank": -1, "MaxStringLength": 0, "DataSetFieldId": "f355bfe8-d5c0-4073-aa89-c8d9d9f8c0c4"}`
		f, err := parseFieldMetaData(json.RawMessage(raw))
		if err != nil || f.Name != "Active" || f.BuiltInType != 1 || f.DataType != 1 || f.ValueRank != -1 ||
			f.FieldID != "f355bfe8-d5c0-4073-aa89-c8d9d9f8c0c4" {
			t.Errorf("%s: %+v %v", dt, f, err)
		}
	}
}

// TestParseRefuses what Part 14 does not allow.
func TestParseRefuses(t *testing.T) {
	for _, bad := range []string{
		`{"MessageType":"ua-data","Messages":[]}`,                     // no MessageId
		`{"MessageId":"1","MessageType":"ua-nonsense","Messages":[]}`, // unknown type
		`{"MessageId":"1","MessageType":"ua-data"}`,                   // no Messages
		`{"MessageId":"1","MessageType":"ua-data","Messages":[{"DataSetWriterId":70000}]}`,
		`{"MessageId":"1","MessageType":"ua-data","Messages":[{"SequenceNumber":-1}]}`,
		`{"MessageId":"1","MessageType":"ua-data","Messages":[{"Timestamp":"yesterday"}]}`,
		`{"MessageId":"1","MessageType":"ua-data","Messages":[{"Payload":[1]}]}`,
		`{"MessageId":"1","MessageType":"ua-metadata","PublisherId":"p"}`, // no writer, no metadata
		`{"MessageId":"1","MessageType":"ua-data","Messages":[]} trailing`,
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}
}

// TestDecoderNeedsMetadata: data before its writer's metadata, or with
// another MinorVersion, is refused; with it, readings come back.
func TestDecoderNeedsMetadata(t *testing.T) {
	meta := `{"MessageId":"b-meta-7-5","MessageType":"ua-metadata","PublisherId":"b","DataSetWriterId":7,"DataSetWriterName":"site/l1/s1",
	  "MetaData":{"Name":"site/l1/s1","Fields":[
	    {"Name":"Temp","FieldFlags":0,"BuiltInType":10,"DataType":{"Id":10},"ValueRank":-1,"MaxStringLength":0,
	     "Properties":[{"Key":{"Name":"NodeId"},"Value":{"Type":12,"Body":"ns=2;s=T"}},{"Key":{"Name":"Server"},"Value":{"Type":12,"Body":"plc"}}]},
	    {"Name":"Count","FieldFlags":0,"BuiltInType":9,"DataType":{"Id":9},"ValueRank":-1,"MaxStringLength":0}],
	   "ConfigurationVersion":{"MajorVersion":4,"MinorVersion":5}}}`
	data := `{"MessageId":"b-9-1","MessageType":"ua-data","PublisherId":"b","Messages":[{"DataSetWriterId":7,
	  "DataSetWriterName":"site/l1/s1","SequenceNumber":1,"MinorVersion":5,"Status":2147483648,
	  "Payload":{"Count":{"Value":"18446744073709551615","SourceTimestamp":"2024-01-02T03:04:05.1234567Z"},
	             "Temp":{"Value":"NaN","StatusCode":{"Code":2147483648,"Symbol":"Bad"}}},
	  "BridgeSeq":{"Count":10,"Temp":9}}]}`
	d := NewDecoder()
	if _, _, err := d.Decode([]byte(data)); err == nil || !strings.Contains(err.Error(), "no metadata") {
		t.Fatalf("data before metadata: %v", err)
	}
	if _, _, err := d.Decode([]byte(meta)); err != nil {
		t.Fatal(err)
	}
	rs, _, err := d.Decode([]byte(data))
	if err != nil || len(rs) != 2 {
		t.Fatalf("%v %v", rs, err)
	}
	temp, count := rs[0], rs[1]
	if temp.Seq != 9 || temp.Name != "site/l1/s1/Temp" || temp.Line != "l1" || temp.Station != "s1" || temp.NodeID != "ns=2;s=T" ||
		temp.Server != "plc" || temp.Status != 0x80000000 || !math.IsNaN(temp.Value.Float()) || temp.Value.Type != fb.TypeFloat {
		t.Errorf("Temp %+v", temp)
	}
	if count.Seq != 10 || count.Value.Uint() != math.MaxUint64 || count.SourceTime.Nanosecond() != 123456700 || !count.ServerTime.IsZero() {
		t.Errorf("Count %+v", count)
	}
	if _, _, err := d.Decode([]byte(strings.Replace(data, `"MinorVersion":5`, `"MinorVersion":6`, 1))); err == nil {
		t.Error("a MinorVersion the metadata does not have was accepted")
	}
}

// TestDecoderOEERecord: an OEE writer's DataSetMessage is the record, its
// BridgeSeq the record's seq.
func TestDecoderOEERecord(t *testing.T) {
	meta := `{"MessageId":"b-meta-3-1","MessageType":"ua-metadata","PublisherId":"b","DataSetWriterId":3,
	  "DataSetWriterName":"l1/s1#oee-shift","MetaData":{"Name":"l1/s1#oee-shift","Fields":[
	  {"Name":"kind","BuiltInType":12,"DataType":{"Id":12}},{"Name":"line","BuiltInType":12,"DataType":{"Id":12}},
	  {"Name":"station","BuiltInType":12,"DataType":{"Id":12}},{"Name":"oee","BuiltInType":11,"DataType":{"Id":11}}],
	  "ConfigurationVersion":{"MajorVersion":1,"MinorVersion":1}}}`
	record := `{"kind":"shift","line":"l1","station":"s1","oee":null}`
	data := `{"MessageId":"b-40-2","MessageType":"ua-data","PublisherId":"b","Messages":[{"DataSetWriterId":3,
	  "DataSetWriterName":"l1/s1#oee-shift","SequenceNumber":1,"MinorVersion":1,"Payload":` + record + `,"BridgeSeq":40}]}`
	d := NewDecoder()
	if _, _, err := d.Decode([]byte(meta)); err != nil {
		t.Fatal(err)
	}
	rs, _, err := d.Decode([]byte(data))
	if err != nil || len(rs) != 1 {
		t.Fatalf("%v %v", rs, err)
	}
	if r := rs[0]; r.Seq != 40 || r.Class != fb.ClassOEE || r.Name != "l1/s1" || r.Line != "l1" || r.Station != "s1" || r.Value.Str != record {
		t.Errorf("record %+v", r)
	}
}
