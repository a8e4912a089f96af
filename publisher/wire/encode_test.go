package wire

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	fb "factorybridge"
)

func TestAppendValue(t *testing.T) {
	ts := time.Date(2024, 11, 28, 6, 30, 15, 123456700, time.UTC)
	tests := []struct {
		name string
		v    fb.Value
		want string
	}{
		{"null", fb.Value{}, `null`},
		{"true", fb.BoolValue(true), `true`},
		{"false", fb.BoolValue(false), `false`},
		{"sbyte", fb.IntValue(fb.TypeSByte, -128), `-128`},
		{"int64 min", fb.IntValue(fb.TypeInt64, math.MinInt64), `-9223372036854775808`},
		{"uint64 max", fb.UintValue(fb.TypeUInt64, math.MaxUint64), `18446744073709551615`},
		{"status code", fb.UintValue(fb.TypeStatusCode, 0x80340000), `2150891520`},
		{"double", fb.FloatValue(fb.TypeDouble, 21.5), `21.5`},
		{"double third", fb.FloatValue(fb.TypeDouble, 1.0/3), `0.3333333333333333`},
		{"float keeps 32-bit digits", fb.FloatValue(fb.TypeFloat, float64(float32(0.1))), `0.1`},
		{"tiny", fb.FloatValue(fb.TypeDouble, 1e-7), `1e-7`},
		{"huge", fb.FloatValue(fb.TypeDouble, 1e300), `1e+300`},
		{"negative zero", fb.FloatValue(fb.TypeDouble, math.Copysign(0, -1)), `-0`},
		{"NaN", fb.FloatValue(fb.TypeDouble, math.NaN()), `"NaN"`},
		{"+Inf", fb.FloatValue(fb.TypeFloat, math.Inf(1)), `"Infinity"`},
		{"-Inf", fb.FloatValue(fb.TypeDouble, math.Inf(-1)), `"-Infinity"`},
		{"datetime", fb.TimeValue(ts), `"2024-11-28T06:30:15.1234567Z"`},
		{"datetime zero", fb.TimeValue(time.Time{}), `"0001-01-01T00:00:00Z"`},
		{"string", fb.TextValue(fb.TypeString, "Läuft"), `"Läuft"`},
		{"quotes and backslash", fb.TextValue(fb.TypeString, `a "b" \c`), `"a \"b\" \\c"`},
		{"control chars", fb.TextValue(fb.TypeString, "a\nb\tc\x00d\x1fe\x7f"), `"a\nb\tc\u0000d\u001fe` + "\x7f" + `"`},
		{"invalid utf-8", fb.TextValue(fb.TypeString, "ok\xffx\xc3"), `"ok` + "\ufffd" + `x` + "\ufffd" + `"`},
		{"html is not escaped", fb.TextValue(fb.TypeString, "<a&b>"), `"<a&b>"`},
		{"guid", fb.TextValue(fb.TypeGUID, "72962b91-fa75-4ae6-8d28-b404dc7daf63"), `"72962b91-fa75-4ae6-8d28-b404dc7daf63"`},
		{"nodeid", fb.TextValue(fb.TypeNodeID, "ns=2;s=Line1"), `"ns=2;s=Line1"`},
		{"bytestring", fb.TextValue(fb.TypeByteString, "\x00\xff\x10"), `"AP8Q"`},
		{"extension object", fb.TextValue(fb.TypeExtensionObject, "hi"), `"aGk="`},
		{"empty array", fb.ArrayValue(fb.TypeDouble, nil), `[]`},
		{"int array", fb.ArrayValue(fb.TypeInt32, []fb.Value{fb.IntValue(fb.TypeInt32, 1), fb.IntValue(fb.TypeInt32, -2)}), `[1,-2]`},
		{"float array with NaN", fb.ArrayValue(fb.TypeDouble, []fb.Value{fb.FloatValue(fb.TypeDouble, math.NaN()), fb.FloatValue(fb.TypeDouble, 2)}), `["NaN",2]`},
		{"string array", fb.ArrayValue(fb.TypeString, []fb.Value{fb.TextValue(fb.TypeString, "a"), fb.TextValue(fb.TypeString, "\"")}), `["a","\""]`},
		{"nested array flattened to scalar", fb.ArrayValue(fb.TypeInt32, []fb.Value{{Type: fb.TypeInt32, Array: true, Bits: 7, Elems: []fb.Value{fb.IntValue(fb.TypeInt32, 1)}}}), `[7]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(appendValue(nil, &tt.v))
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("%s is not valid JSON", got)
			}
		})
	}
}

// TestValueRoundTrip checks that decodeValue inverts appendValue.
func TestValueRoundTrip(t *testing.T) {
	values := []fb.Value{
		{}, fb.BoolValue(true), fb.IntValue(fb.TypeInt16, -300), fb.UintValue(fb.TypeUInt64, math.MaxUint64),
		fb.FloatValue(fb.TypeFloat, float64(float32(3.14159))), fb.FloatValue(fb.TypeDouble, math.Inf(-1)),
		fb.FloatValue(fb.TypeDouble, 5e-324), fb.TimeValue(time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC)),
		fb.TextValue(fb.TypeString, "line \"1\"\n"), fb.TextValue(fb.TypeByteString, "\x00\x01binary"),
		fb.ArrayValue(fb.TypeBoolean, []fb.Value{fb.BoolValue(true), fb.BoolValue(false)}),
		fb.ArrayValue(fb.TypeString, []fb.Value{}),
	}
	for _, v := range values {
		enc := appendValue(nil, &v)
		got, err := decodeValue(v.Type, enc)
		if err != nil {
			t.Fatalf("decode %s: %v", enc, err)
		}
		if again := appendValue(nil, &got); string(again) != string(enc) {
			t.Errorf("%s decoded and encoded again is %s", enc, again)
		}
	}
}

// TestAppendStringMatchesEncodingJSON compares with encoding/json, which
// also replaces each invalid byte with U+FFFD.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "ä€𝄞", "\xff\xfe", "a\xe2\x82", "\u2028", "\x00\x01\x02\"\\/", "\xed\xa0\x80"} {
		checkStringLikeEncodingJSON(t, s)
	}
}

func checkStringLikeEncodingJSON(t *testing.T, s string) {
	t.Helper()
	got := appendString(nil, s)
	var dec, ref string
	if err := json.Unmarshal(got, &dec); err != nil {
		t.Fatalf("appendString(%q) = %s: %v", s, got, err)
	}
	want, _ := json.Marshal(s)
	if err := json.Unmarshal(want, &ref); err != nil {
		t.Fatal(err)
	}
	if dec != ref {
		t.Fatalf("appendString(%q) decodes to %q; encoding/json's to %q", s, dec, ref)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "\xff", "\"\\\n", "ä\x80"} {
		f.Add(s)
	}
	f.Fuzz(checkStringLikeEncodingJSON)
}
