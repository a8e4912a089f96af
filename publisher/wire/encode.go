package wire

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"factorybridge"
)

// The JSON encoding of values is hand-written: encoding/json reflects per
// call, and the hot path encodes hundreds of thousands of readings a second
// into buffers that are reused.

// safeASCII[c] reports whether ASCII byte c may appear unescaped in a JSON string.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 bytes become U+FFFD,
// so every message is valid UTF-8 whatever a PLC sends.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if safeASCII[c] {
				continue
			}
			b = appendEscaped(append(b, s[start:i-1]...), c)
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), "\ufffd"...)
			start = i + 1
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendEscaped appends the JSON escape of an ASCII byte.
func appendEscaped(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// appendValue appends v as JSON: scalars per appendScalar, arrays as JSON
// arrays of their elements (each encoded by its own Type, which matters for
// arrays of Variant).
func appendValue(b []byte, v *factorybridge.Value) []byte {
	if !v.Array {
		return appendScalar(b, v)
	}
	b = append(b, '[')
	for i := range v.Elems {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendScalar(b, &v.Elems[i])
	}
	return append(b, ']')
}

// appendScalar appends the payload of a scalar value; its Elems are ignored,
// so a malformed nested array cannot recurse.
func appendScalar(b []byte, v *factorybridge.Value) []byte {
	switch v.Type.Kind() {
	case factorybridge.KindNone:
		return append(b, "null"...)
	case factorybridge.KindBool:
		return strconv.AppendBool(b, v.Bits != 0)
	case factorybridge.KindInt:
		return strconv.AppendInt(b, int64(v.Bits), 10)
	case factorybridge.KindUint:
		return strconv.AppendUint(b, v.Bits, 10)
	case factorybridge.KindFloat:
		return appendFloat(b, v.Float(), v.Type == factorybridge.TypeFloat)
	case factorybridge.KindTime:
		return appendTime(b, v.Time())
	case factorybridge.KindBytes:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, []byte(v.Str))
		return append(b, '"')
	default:
		return appendString(b, v.Str)
	}
}

// appendFloat appends f as a JSON number, or NaN and the infinities as the
// strings "NaN", "Infinity" and "-Infinity" (JSON has no literal for them).
// A Float is formatted at 32-bit precision so 0.1f reads 0.1, not
// 0.10000000149011612. The format follows encoding/json.
func appendFloat(b []byte, f float64, single bool) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	bits := 64
	if single {
		bits = 32
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// Shorten e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendTime appends t as a quoted RFC 3339 UTC timestamp with nanoseconds
// as needed.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// AppendValue appends v as JSON in the forms docs/message-format.md gives
// for reading values. The OPC UA client encodes event fields with it, so
// that a field reads as a reading of the same type does.
func AppendValue(b []byte, v *factorybridge.Value) []byte { return appendValue(b, v) }

// AppendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }
