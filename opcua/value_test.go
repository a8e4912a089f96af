package opcua

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
)

func TestConvertValueScalars(t *testing.T) {
	when := time.Date(2024, 2, 29, 12, 34, 56, 789_000_000, time.UTC)
	guid := ua.NewGUID("72962B91-FA75-4AE6-8D28-B404DC7DAF63")
	tests := []struct {
		name string
		in   any
		want fb.Value
	}{
		{"Boolean", true, fb.BoolValue(true)},
		{"SByte", int8(-128), fb.IntValue(fb.TypeSByte, -128)},
		{"Byte", uint8(255), fb.UintValue(fb.TypeByte, 255)},
		{"Int16", int16(math.MinInt16), fb.IntValue(fb.TypeInt16, math.MinInt16)},
		{"UInt16", uint16(math.MaxUint16), fb.UintValue(fb.TypeUInt16, math.MaxUint16)},
		{"Int32", int32(math.MinInt32), fb.IntValue(fb.TypeInt32, math.MinInt32)},
		{"UInt32", uint32(math.MaxUint32), fb.UintValue(fb.TypeUInt32, math.MaxUint32)},
		{"Int64", int64(math.MinInt64), fb.IntValue(fb.TypeInt64, math.MinInt64)},
		{"UInt64", uint64(math.MaxUint64), fb.UintValue(fb.TypeUInt64, math.MaxUint64)},
		{"Float", float32(math.MaxFloat32), fb.FloatValue(fb.TypeFloat, float64(float32(math.MaxFloat32)))},
		{"Double", math.SmallestNonzeroFloat64, fb.FloatValue(fb.TypeDouble, math.SmallestNonzeroFloat64)},
		{"String", "Grüße 🏭", fb.TextValue(fb.TypeString, "Grüße 🏭")},
		{"DateTime", when, fb.TimeValue(when)},
		{"Guid", guid, fb.TextValue(fb.TypeGUID, "72962b91-fa75-4ae6-8d28-b404dc7daf63")},
		{"ByteString", []byte{0, 1, 0x7f, 0x80, 0xfe, 0xff}, fb.TextValue(fb.TypeByteString, "\x00\x01\x7f\x80\xfe\xff")},
		{"XmlElement", ua.XMLElement("<a>b</a>"), fb.TextValue(fb.TypeXMLElement, "<a>b</a>")},
		{"NodeId", ua.NewNumericNodeID(1, math.MaxUint32), fb.TextValue(fb.TypeNodeID, "ns=1;i=4294967295")},
		{"ExpandedNodeId", ua.NewStringExpandedNodeID(2, "x"), fb.TextValue(fb.TypeExpandedNodeID, "ns=2;s=x")},
		{"ExpandedNodeId", ua.NewExpandedNodeID(ua.NewStringNodeID(0, "a;b"), "urn:x;y", 3),
			fb.TextValue(fb.TypeExpandedNodeID, "svr=3;nsu=urn:x%3By;s=a;b")},
		{"StatusCode", ua.StatusBadNodeIDUnknown, fb.UintValue(fb.TypeStatusCode, 0x80340000)},
		{"QualifiedName", &ua.QualifiedName{NamespaceIndex: 1, Name: "FactoryBridge"}, fb.TextValue(fb.TypeQualifiedName, "1:FactoryBridge")},
		{"LocalizedText", &ua.LocalizedText{Locale: "de-DE", Text: "Störung"}, fb.TextValue(fb.TypeLocalizedText, "Störung")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := convertValue(ua.MustVariant(tt.in), DefaultMaxArrayLen)
			if err != nil {
				t.Fatalf("convertValue: %v", err)
			}
			if got.Type.String() != tt.name {
				t.Errorf("Type = %s, want %s", got.Type, tt.name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestConvertValueNull(t *testing.T) {
	for _, v := range []*ua.Variant{nil, {}} {
		got, err := convertValue(v, DefaultMaxArrayLen)
		if err != nil || !reflect.DeepEqual(got, fb.Value{}) {
			t.Errorf("convertValue(%v) = %#v, %v; want Null", v, got, err)
		}
	}
}

func TestConvertValueArrays(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want fb.Value
	}{
		{"Int32", []int32{1, 2, 3}, fb.ArrayValue(fb.TypeInt32, []fb.Value{
			fb.IntValue(fb.TypeInt32, 1), fb.IntValue(fb.TypeInt32, 2), fb.IntValue(fb.TypeInt32, 3)})},
		{"Double", []float64{-1.5, 0}, fb.ArrayValue(fb.TypeDouble, []fb.Value{
			fb.FloatValue(fb.TypeDouble, -1.5), fb.FloatValue(fb.TypeDouble, 0)})},
		{"String", []string{"alpha", ""}, fb.ArrayValue(fb.TypeString, []fb.Value{
			fb.TextValue(fb.TypeString, "alpha"), fb.TextValue(fb.TypeString, "")})},
		{"Byte", ua.ByteArray{7, 8}, fb.ArrayValue(fb.TypeByte, []fb.Value{
			fb.UintValue(fb.TypeByte, 7), fb.UintValue(fb.TypeByte, 8)})},
		// gopcua cannot encode arrays of ByteString ; the decoder makes [][]byte as here.
		{"ByteString", [][]byte{{1, 2}, {3, 4}}, fb.ArrayValue(fb.TypeByteString, []fb.Value{
			fb.TextValue(fb.TypeByteString, "\x01\x02"), fb.TextValue(fb.TypeByteString, "\x03\x04")})},
		{"Empty", []int32{}, fb.ArrayValue(fb.TypeInt32, nil)},
		{"TrivialMatrix", [][]int32{{4, 5}}, fb.ArrayValue(fb.TypeInt32, []fb.Value{
			fb.IntValue(fb.TypeInt32, 4), fb.IntValue(fb.TypeInt32, 5)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ua.MustVariant(tt.in)
			if tt.name != "ByteString" {
				v = roundTrip(t, v)
			}
			got, err := convertValue(v, DefaultMaxArrayLen)
			if err != nil {
				t.Fatalf("convertValue: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestConvertValueRejects(t *testing.T) {
	tests := []struct {
		name string
		in   *ua.Variant
		want ua.StatusCode
	}{
		{"TooLong", ua.MustVariant(make([]int32, 6)), ua.StatusBadEncodingLimitsExceeded},
		{"Matrix", ua.MustVariant([][]int32{{1, 2}, {3, 4}}), ua.StatusBadEncodingLimitsExceeded},
		{"VariantArray", ua.MustVariant([]*ua.Variant{ua.MustVariant(int32(1))}), ua.StatusBadNotSupported},
		{"DataValue", ua.MustVariant(&ua.DataValue{}), ua.StatusBadNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := convertValue(tt.in, 5)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want status %v", err, tt.want)
			}
			if !reflect.DeepEqual(got, fb.Value{}) {
				t.Errorf("value = %#v, want Null", got)
			}
		})
	}
}

func TestConvertValueExtensionObject(t *testing.T) {
	known := &ua.ExtensionObject{
		EncodingMask: ua.ExtensionObjectBinary,
		TypeID:       ua.NewFourByteExpandedNodeID(0, id.Range_Encoding_DefaultBinary),
		Value:        &ua.Range{Low: 1, High: 2},
	}
	unknown := &ua.ExtensionObject{EncodingMask: ua.ExtensionObjectBinary, TypeID: ua.NewStringExpandedNodeID(2, "T")}
	for _, eo := range []*ua.ExtensionObject{known, unknown} {
		got, err := convertValue(ua.MustVariant(eo), DefaultMaxArrayLen)
		if err != nil {
			t.Fatalf("convertValue: %v", err)
		}
		if got.Type != fb.TypeExtensionObject || got.Type.Kind() != fb.KindBytes {
			t.Fatalf("Type = %s", got.Type)
		}
		var back ua.ExtensionObject
		if _, err := back.Decode([]byte(got.Str)); err != nil {
			t.Fatalf("decode Str: %v", err)
		}
		if back.TypeID.String() != eo.TypeID.String() || !reflect.DeepEqual(back.Value, eo.Value) {
			t.Errorf("round trip: got %v %#v, want %v %#v", back.TypeID, back.Value, eo.TypeID, eo.Value)
		}
	}
}

// roundTrip encodes and decodes v the way values arrive from a server, so the
// test sees gopcua's decoded Go types (ua.ByteArray, nested matrices).
func roundTrip(t testing.TB, v *ua.Variant) *ua.Variant {
	t.Helper()
	b, err := v.Encode()
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var out ua.Variant
	if _, err := out.Decode(b); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return &out
}
