package ua

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// Patch 7: DataChangeNotification.Decode must decode exactly what the
// reflective decoder does. decodeStruct on the struct is that decoder: it
// is what Decode reached before the type had a Decode method, and the
// fields' types (MonitoredItemNotification has no method) still take the
// reflective path below it.

var _ BinaryDecoder = (*DataChangeNotification)(nil) // what ExtensionObject.Decode dispatches on

// reflectiveDataChange decodes b as gopcua did before patch 7.
func reflectiveDataChange(b []byte) (*DataChangeNotification, int, error) {
	d := new(DataChangeNotification)
	n, err := decodeStruct(b, reflect.ValueOf(d).Elem(), "DataChangeNotification")
	return d, n, err
}

// checkSameDecoding fails t unless both decoders return the same count
// and error for b, and the same value field by field.
func checkSameDecoding(t testing.TB, b []byte) {
	t.Helper()
	want, wn, werr := reflectiveDataChange(b)
	got := new(DataChangeNotification)
	gn, gerr := got.Decode(b)
	if fmt.Sprintf("%T %v", gerr, gerr) != fmt.Sprintf("%T %v", werr, werr) || gn != wn {
		t.Fatalf("input %x:\nfast decoder:       %d, %T %v\nreflective decoder: %d, %T %v", b, gn, gerr, gerr, wn, werr, werr)
	}
	if diff := firstDiff("DataChangeNotification", reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()); diff != "" {
		t.Fatalf("input %x: the decoders differ at %s", b, diff)
	}
}

// firstDiff compares two values of one type field by field, floats by
// their bits (NaN is a value like any other here), and returns the path of
// the first difference, or "". It reads unexported fields too (Variant's).
func firstDiff(path string, a, b reflect.Value) string {
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		switch {
		case a.IsNil() || b.IsNil():
			return diffIf(a.IsNil() != b.IsNil(), path, "nil")
		case a.Kind() == reflect.Interface && a.Elem().Type() != b.Elem().Type():
			return path + ": type " + a.Elem().Type().String() + " vs " + b.Elem().Type().String()
		}
		return firstDiff(path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Sprintf("%s: nil %t len %d vs nil %t len %d", path, a.IsNil(), a.Len(), b.IsNil(), b.Len())
		}
		fallthrough
	case reflect.Array:
		for i := 0; i < a.Len(); i++ {
			if d := firstDiff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if d := firstDiff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
	case reflect.Float32, reflect.Float64:
		return diffIf(math.Float64bits(a.Float()) != math.Float64bits(b.Float()), path, fmt.Sprint(a.Float(), b.Float()))
	case reflect.Bool:
		return diffIf(a.Bool() != b.Bool(), path, "")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return diffIf(a.Int() != b.Int(), path, fmt.Sprint(a.Int(), b.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return diffIf(a.Uint() != b.Uint(), path, fmt.Sprint(a.Uint(), b.Uint()))
	case reflect.String:
		return diffIf(a.String() != b.String(), path, fmt.Sprintf("%q %q", a.String(), b.String()))
	default:
		return path + ": cannot compare " + a.Kind().String()
	}
	return ""
}

func diffIf(differ bool, path, what string) string {
	if !differ {
		return ""
	}
	return path + ": " + what
}

// TestPatchDataChangeDecodeMatchesReflective runs both decoders over random
// notifications, every truncation of them, and corrupted copies (random
// bytes, array lengths overwritten with extreme values).
func TestPatchDataChangeDecodeMatchesReflective(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 7))
	for range 300 {
		b := encodeDataChange(t, randomDataChange(rng))
		checkSameDecoding(t, b)
		for _, k := range truncations(rng, len(b)) {
			checkSameDecoding(t, b[:k])
		}
		for range 40 {
			checkSameDecoding(t, corrupt(rng, b))
		}
	}
}

// TestPatchDataChangeDecodeAllocationBounded: an array that claims more
// items than its bytes can hold costs the fast decoder no more memory than
// a valid notification of the same size cost the reflective one (its item
// blocks are sized by the input, not by the claim).
func TestPatchDataChangeDecodeAllocationBounded(t *testing.T) {
	const size = 1 << 18
	valid := make([]byte, size) // items of a zero handle and an empty DataValue
	binary.LittleEndian.PutUint32(valid, (size-8)/minItemSize)
	binary.LittleEndian.PutUint32(valid[size-4:], 0) // no diagnostic infos
	hostile := make([]byte, size)
	binary.LittleEndian.PutUint32(hostile, size-4)
	hostile[8], hostile[9] = DataValueValue, 0x3f // the first value's type id is invalid
	if _, _, err := reflectiveDataChange(valid); err != nil {
		t.Fatalf("valid input: %v", err)
	}
	if _, err := new(DataChangeNotification).Decode(hostile); err == nil {
		t.Fatal("hostile input decoded")
	}
	want := allocated(func() { reflectiveDataChange(valid) })
	got := allocated(func() { new(DataChangeNotification).Decode(hostile) })
	if got > want {
		t.Errorf("hostile input of %d bytes: %d bytes allocated, more than the %d of a valid one", size, got, want)
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// FuzzPatchDataChangeDecode compares both decoders on any input; its seeds
// are well-formed notifications and a few corner cases.
func FuzzPatchDataChangeDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f.Add(encodeDataChange(f, randomDataChange(rng)))
	}
	for _, seed := range [][]byte{
		{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // null arrays
		{0, 0, 0, 0, 0, 0, 0, 0},    // empty arrays
		{1, 0, 0, 0, 1, 0, 0, 0, 0}, // one item, no value, no diagnostics
		{0xfe, 0xff, 0xff, 0xff},    // negative length
		{0xff, 0xff, 0xff, 0x7f, 0}, // a length beyond the input
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkSameDecoding(t, b) })
}

// truncations returns every shorter length of a short input, and 64
// random ones of a long one.
func truncations(rng *rand.Rand, n int) []int {
	if n <= 256 {
		ks := make([]int, n)
		for k := range ks {
			ks[k] = k
		}
		return ks
	}
	ks := make([]int, 64)
	for i := range ks {
		ks[i] = rng.IntN(n)
	}
	return ks
}

// corrupt returns a copy of b with a few random bytes or a length-like
// word replaced.
func corrupt(rng *rand.Rand, b []byte) []byte {
	c := append([]byte(nil), b...)
	if len(c) == 0 {
		return []byte{byte(rng.Uint32())}
	}
	if len(c) >= 4 && rng.IntN(2) == 0 {
		words := []uint32{0, 1, 2, 0xffffffff, 0xfffffffe, 0x7fffffff, 0x80000000, uint32(len(c)), uint32(rng.IntN(300))}
		at, w := rng.IntN(len(c)-3), words[rng.IntN(len(words))]
		c[at], c[at+1], c[at+2], c[at+3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
		return c
	}
	for range 1 + rng.IntN(3) {
		c[rng.IntN(len(c))] = byte(rng.Uint32())
	}
	return c
}

func encodeDataChange(t testing.TB, d *DataChangeNotification) []byte {
	t.Helper()
	b, err := Encode(d)
	if err != nil {
		t.Fatalf("encode %+v: %v", d, err)
	}
	return b
}

// randomDataChange returns a notification with null, empty or a few items
// and diagnostic infos, whose values cover the built-in types.
func randomDataChange(rng *rand.Rand) *DataChangeNotification {
	d := &DataChangeNotification{}
	if n := rng.IntN(8) - 1; n >= 0 {
		d.MonitoredItems = make([]*MonitoredItemNotification, n)
		for i := range d.MonitoredItems {
			d.MonitoredItems[i] = &MonitoredItemNotification{ClientHandle: rng.Uint32(), Value: randomDataValue(rng)}
		}
	}
	if n := rng.IntN(4) - 1; n >= 0 {
		d.DiagnosticInfos = make([]*DiagnosticInfo, n)
		for i := range d.DiagnosticInfos {
			d.DiagnosticInfos[i] = randomDiagnosticInfo(rng, 2)
		}
	}
	return d
}

func randomDataValue(rng *rand.Rand) *DataValue {
	dv := &DataValue{EncodingMask: byte(rng.IntN(64))}
	if dv.Has(DataValueValue) {
		dv.Value = MustVariant(randomValue(rng))
	}
	dv.Status = StatusCode(rng.Uint32())
	dv.SourceTimestamp = randomTime(rng)
	dv.ServerTimestamp = randomTime(rng)
	dv.SourcePicoseconds, dv.ServerPicoseconds = uint16(rng.Uint32()), uint16(rng.Uint32())
	return dv
}

func randomTime(rng *rand.Rand) time.Time {
	if rng.IntN(4) == 0 {
		return time.Time{}
	}
	return time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC()
}

// randomValue returns a scalar, array or matrix of a built-in type.
func randomValue(rng *rand.Rand) any {
	values := []func() any{
		func() any { return nil },
		func() any { return rng.IntN(2) == 0 },
		func() any { return int8(rng.Uint32()) },
		func() any { return uint8(rng.Uint32()) },
		func() any { return int16(rng.Uint32()) },
		func() any { return uint16(rng.Uint32()) },
		func() any { return int32(rng.Uint32()) },
		func() any { return rng.Uint32() },
		func() any { return rng.Int64() },
		func() any { return rng.Uint64() },
		func() any { return float32(rng.NormFloat64()) },
		func() any { return []float64{rng.NormFloat64(), math.NaN(), math.Inf(-1)} },
		func() any { return fmt.Sprint("text ", rng.Uint32()) },
		func() any { return randomTime(rng) },
		func() any { return NewGUID("72962B91-FA75-4AE6-8D28-B404DC7DAF63") },
		func() any { return []byte{byte(rng.Uint32()), 0, 1} },
		func() any { return XMLElement("<a/>") },
		func() any { return NewStringNodeID(2, "load.17") },
		func() any { return NewFourByteExpandedNodeID(1, 42) },
		func() any { return StatusCode(rng.Uint32()) },
		func() any { return &QualifiedName{NamespaceIndex: 3, Name: "q"} },
		func() any { return &LocalizedText{EncodingMask: LocalizedTextText, Text: "t"} },
		func() any { return []int32{1, 2, 3} },
		func() any { return []string{"a", "", "c"} },
		func() any { return [][]uint16{{1, 2, 3}, {4, 5, 6}} },
		func() any { return []uint64{} },
		func() any { return []bool(nil) },
	}
	return values[rng.IntN(len(values))]()
}

func randomDiagnosticInfo(rng *rand.Rand, depth int) *DiagnosticInfo {
	d := &DiagnosticInfo{EncodingMask: byte(rng.IntN(128)), SymbolicID: rng.Int32(), NamespaceURI: rng.Int32(),
		Locale: rng.Int32(), LocalizedText: rng.Int32(), AdditionalInfo: "info", InnerStatusCode: StatusCode(rng.Uint32())}
	if d.Has(DiagnosticInfoInnerDiagnosticInfo) {
		if depth == 0 {
			d.EncodingMask &^= DiagnosticInfoInnerDiagnosticInfo
		} else {
			d.InnerDiagnosticInfo = randomDiagnosticInfo(rng, depth-1)
		}
	}
	return d
}

// BenchmarkPatchDataChangeDecode compares the decoders on a notification
// like one of a subscription to 1,000 counters: UInt64 values with source
// and server timestamps.
func BenchmarkPatchDataChangeDecode(b *testing.B) {
	d := &DataChangeNotification{MonitoredItems: make([]*MonitoredItemNotification, 1000)}
	now := time.Now()
	for i := range d.MonitoredItems {
		d.MonitoredItems[i] = &MonitoredItemNotification{ClientHandle: uint32(i), Value: &DataValue{
			EncodingMask: DataValueValue | DataValueSourceTimestamp | DataValueServerTimestamp,
			Value:        MustVariant(uint64(100000 + i)), SourceTimestamp: now, ServerTimestamp: now,
		}}
	}
	enc := encodeDataChange(b, d)
	b.Run("reflective", func(b *testing.B) {
		for range b.N {
			if _, _, err := reflectiveDataChange(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		for range b.N {
			if _, err := new(DataChangeNotification).Decode(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
