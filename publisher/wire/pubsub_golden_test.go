package wire

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
)

// goldenField is a DataSet field of a golden: a value the bridge can hold, or
// JSON it cannot (structures, and the NodeId and QualifiedName objects of
// the 1.05.03 non-reversible encoding; the bridge sends those types as the
// strings of OPC 10000-6 5.1.12).
type goldenField struct {
	name string
	v    fb.Value
	raw  string
}

func goldenPayload(fields []goldenField) []byte {
	var b []byte
	for i, f := range fields {
		b = appendMember(b, f.name, i == 0)
		if f.raw != "" {
			b = append(b, f.raw...)
			continue
		}
		b = appendPSValue(b, &f.v)
	}
	return b
}

func compactJSON(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		// A prefix is not valid JSON: drop the line breaks only.
		return []byte(strings.NewReplacer("\n", "", ": ", ":").Replace(string(raw)))
	}
	return out.Bytes()
}

// TestGoldenPart14NetworkMessage reproduces the example of OPC 10000-14
// v1.05, A.3.4.5 "Examples" — the JSON-NetworkMessage header layout of
// A.3.4 (Table A.20 for the WriterGroup, Table A.21 for the DataSetWriter:
// DataSetWriterId, SequenceNumber, MinorVersion, Timestamp and Status in
// the DataSetMessage header), over the DataSets of A.3.1 (Tables A.13,
// A.14, A.15) — byte for byte once its whitespace is removed
// (testdata/part14-A.3.4.5.json, as published at
// reference.opcfoundation.org/Core/Part14/v105/docs/A.3.4.5). Only the
// MyStruct value and the NodeId and QualifiedName objects are given as
// JSON; every other value goes through the bridge's value encoding.
func TestGoldenPart14NetworkMessage(t *testing.T) {
	stamp := time.Date(2021, 9, 27, 18, 45, 19, 555e6, time.UTC)
	ds1 := []goldenField{
		{name: "Active", v: fb.BoolValue(true)},
		{name: "Temperature", v: fb.FloatValue(fb.TypeDouble, 25.5)},
		{name: "Counter", v: fb.UintValue(fb.TypeUInt32, 0)},
		{name: "AdditionalInfo", v: fb.TextValue(fb.TypeString, "The system is running normally (1)")},
	}
	ds2 := []goldenField{
		{name: "LocationName", v: fb.TextValue(fb.TypeString, "Building A")},
		{name: "Coordinate", raw: `{"X":0,"Y":0.2}`},
		{name: "Measurements", v: fb.ArrayValue(fb.TypeInt32, []fb.Value{
			fb.IntValue(fb.TypeInt32, 20030), fb.IntValue(fb.TypeInt32, 20020), fb.IntValue(fb.TypeInt32, 20010)})},
	}
	ds3 := []goldenField{
		{name: "BooleanValue", v: fb.BoolValue(false)},
		{name: "Int32Value", v: fb.IntValue(fb.TypeInt32, 0)},
		{name: "Int64Value", v: fb.IntValue(fb.TypeInt64, 1)},
		{name: "UInt32Value", v: fb.UintValue(fb.TypeUInt32, 1)},
		{name: "UInt64Value", v: fb.UintValue(fb.TypeUInt64, 1)},
		{name: "DoubleValue", v: fb.FloatValue(fb.TypeDouble, 0.5)},
		{name: "DateTimeValue", v: fb.TimeValue(time.Date(2021, 9, 14, 7, 14, 30, 0, time.UTC))},
		{name: "StringValue", v: fb.TextValue(fb.TypeString, "String 1")},
		{name: "GuidValue", v: fb.TextValue(fb.TypeGUID, "ebfc352a-3142-4b99-9bbe-89a517d6a77e")},
		{name: "StatusCodeValue", v: fb.UintValue(fb.TypeStatusCode, 0x80000000)},
		{name: "LocalizedTextValue", v: fb.TextValue(fb.TypeLocalizedText, "Localized text 1")},
		{name: "ByteStringValue", v: fb.TextValue(fb.TypeByteString, "\x00\x01\x02")},
		{name: "NodeIdValue", raw: `{"IdType":1,"Id":"Boilers.Boiler #1.PipeX001.ValveX001.Input","Namespace":"http://test.org/UA/Data/Instance"}`},
		{name: "QualifiedNameValue", raw: `{"Name":"PipeX001","Uri":"http://test.org/UA/Data/"}`},
	}
	got := appendNetworkMessageHead(nil, psMessage{MessageID: "9279c0b3-da88-45a4-af74-451cebf82db0", PublisherID: "MyPublisher"})
	for i, d := range []psDataSetMessage{
		{WriterID: 101, Sequence: 68468, Payload: goldenPayload(ds1)},
		{WriterID: 102, Sequence: 25460, Status: 1073741824, Payload: goldenPayload(ds2)},
		{WriterID: 103, Sequence: 66915, Payload: goldenPayload(ds3)},
	} {
		if i > 0 {
			got = append(got, ',')
		}
		d.MinorVersion, d.Timestamp = 672341762, stamp
		got = appendDataSetMessage(got, &d)
	}
	got = append(got, networkMessageTail...)
	if want := compactJSON(t, "testdata/part14-A.3.4.5.json"); !bytes.Equal(got, want) {
		t.Errorf("NetworkMessage\n got %s\nwant %s", got, want)
	}
}

// TestGoldenPart14MetaDataPrefix reproduces the DataSetMetaData example of
// OPC 10000-14 v1.05, A.3.1 (the metadata of DataSet1, Table A.13) as far
// as the published page could be retrieved: its header (7.2.5.5.2) and the
// FieldMetaData of "Active" (6.2.3.2.4, reversible: DataType {"Id": 1}).
// The rest of the example (the other fields, ConfigurationVersion) was not
// retrievable and is not checked.
func TestGoldenPart14MetaDataPrefix(t *testing.T) {
	got := appendMetaDataHead(nil, psMetaHead{MessageID: "66D65CA4-92EE-4195-9867-E6E27794B692", PublisherID: "MyPublisher", WriterID: 101})
	got = appendFieldMetaData(got, psFieldMeta{Name: "Active", Type: fb.TypeBoolean, FieldID: "f355bfe8-d5c0-4073-aa89-c8d9d9f8c0c4"})
	if want := compactJSON(t, "testdata/part14-A.3.1-metadata-prefix.json"); !bytes.Equal(got, want) {
		t.Errorf("metadata\n got %s\nwant %s", got, want)
	}
}
