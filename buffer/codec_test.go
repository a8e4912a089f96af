package buffer

import (
	"math"
	"reflect"
	"testing"
	"time"

	fb "factorybridge"
)

func sampleReadings() []fb.Reading {
	t0 := time.Date(2026, 11, 28, 4, 30, 0, 123456700, time.UTC)
	base := fb.Reading{Name: "munich/line1/assembly/X", Server: "plc", Line: "line1", Station: "assembly",
		NodeID: "ns=2;s=assembly.X", SourceTime: t0, ServerTime: t0.Add(time.Millisecond)}
	values := []fb.Value{
		{},
		fb.BoolValue(true),
		fb.BoolValue(false),
		fb.IntValue(fb.TypeSByte, -128),
		fb.UintValue(fb.TypeByte, 255),
		fb.IntValue(fb.TypeInt16, math.MinInt16),
		fb.UintValue(fb.TypeUInt16, math.MaxUint16),
		fb.IntValue(fb.TypeInt32, math.MinInt32),
		fb.UintValue(fb.TypeUInt32, math.MaxUint32),
		fb.IntValue(fb.TypeInt64, math.MinInt64),
		fb.UintValue(fb.TypeUInt64, math.MaxUint64),
		fb.FloatValue(fb.TypeFloat, 1.5),
		fb.FloatValue(fb.TypeDouble, math.Inf(-1)),
		fb.FloatValue(fb.TypeDouble, math.Pi),
		fb.TextValue(fb.TypeString, "Grüße, \"quoted\"\x00"),
		fb.TextValue(fb.TypeString, "\xff\xfe invalid utf-8"),
		fb.TimeValue(t0),
		fb.TextValue(fb.TypeGUID, "72962B91-FA75-4AE6-8D28-B404DC7DAF63"),
		fb.TextValue(fb.TypeByteString, "\x00\x01\x02"),
		fb.TextValue(fb.TypeNodeID, "ns=2;s=x"),
		fb.UintValue(fb.TypeStatusCode, 0x80340000),
		fb.TextValue(fb.TypeLocalizedText, "Hallo"),
		fb.ArrayValue(fb.TypeInt32, []fb.Value{fb.IntValue(fb.TypeInt32, 1), fb.IntValue(fb.TypeInt32, -2)}),
		fb.ArrayValue(fb.TypeString, []fb.Value{fb.TextValue(fb.TypeString, "a"), fb.TextValue(fb.TypeString, "")}),
		fb.ArrayValue(fb.TypeDouble, []fb.Value{}),
	}
	var rs []fb.Reading
	for i, v := range values {
		r := base
		r.Value = v
		if i%3 == 0 {
			r.Status = 0x80000000
			r.ServerTime = time.Time{}
		}
		if i%5 == 0 {
			r.Name, r.NodeID = "munich/line1/test/Y", "ns=2;s=test.Y"
			r.SourceTime = time.Time{}
		}
		if i%4 == 1 { // a clock corrected by two hours
			r.BridgeTime = t0.Add(2*time.Hour + 300*time.Nanosecond)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestSegmentRoundTrip(t *testing.T) {
	want := sampleReadings()
	e := newTestEncoder()
	e.reset(time.Date(2026, 11, 28, 4, 31, 0, 0, time.UTC))
	for i := range want {
		e.add(&want[i])
	}
	seg := e.appendSegment(nil)
	got, err := decodeSegment(nil, seg, e.dict.names, 100, 0, len(want))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i].Seq = 100 + uint64(i)
		if want[i].Value.Type == fb.TypeDouble && want[i].Value.Array {
			want[i].Value.Elems = []fb.Value{} // decoded empty arrays are non-nil
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("reading %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestDecodeSegmentSkipsAndLimits(t *testing.T) {
	rs := sampleReadings()
	e := newTestEncoder()
	e.reset(time.Now())
	for i := range rs {
		e.add(&rs[i])
	}
	seg := e.appendSegment(nil)
	tests := []struct {
		after   uint64
		max     int
		first   uint64
		wantLen int
	}{
		{after: 0, max: 3, wantLen: 3, first: 10},
		{after: 14, max: 100, wantLen: len(rs) - 5, first: 15},
		{after: 10 + uint64(len(rs)), max: 100, wantLen: 0},
	}
	for _, tt := range tests {
		got, err := decodeSegment(nil, seg, e.dict.names, 10, tt.after, tt.max)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.wantLen {
			t.Fatalf("after %d max %d: got %d readings, want %d", tt.after, tt.max, len(got), tt.wantLen)
		}
		if len(got) > 0 && got[0].Seq != tt.first {
			t.Errorf("after %d: first seq %d, want %d", tt.after, got[0].Seq, tt.first)
		}
	}
}

func TestDecodeSegmentRejectsDamage(t *testing.T) {
	rs := sampleReadings()
	e := newTestEncoder()
	e.reset(time.Now())
	for i := range rs {
		e.add(&rs[i])
	}
	seg := e.appendSegment(nil)
	for _, tc := range []struct {
		name string
		seg  []byte
	}{
		{"empty", nil},
		{"truncated", seg[:len(seg)/2]},
		{"bit flip", flip(seg, len(seg)/2)},
		{"bad magic", flip(seg, 0)},
	} {
		if _, err := decodeSegment(nil, tc.seg, e.dict.names, 1, 0, 1000); err == nil {
			t.Errorf("%s: decoded without error", tc.name)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x10
	return c
}

// FuzzDecodeSegment feeds arbitrary bytes to the decoder: it must never
// panic or allocate without bound, whatever a damaged file holds. The crc is
// recomputed so the fuzzer reaches the reading decoder.
func FuzzDecodeSegment(f *testing.F) {
	rs := sampleReadings()
	e := newTestEncoder()
	e.reset(time.Now())
	for i := range rs {
		e.add(&rs[i])
	}
	f.Add(append([]byte(nil), e.appendSegment(nil)[segHeader:]...))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		seg := append([]byte{segMagic, segVersion, 0, 0, 0, 0}, body...)
		putCRC(seg)
		_, _ = decodeSegment(nil, seg, e.dict.names, 1, 0, 1<<16)
	})
}

func BenchmarkEncodeSegment(b *testing.B) {
	rs := loadReadings(4096, 100)
	e := newTestEncoder()
	var seg []byte
	b.ReportAllocs()
	for b.Loop() {
		e.reset(time.Now())
		for i := range rs {
			e.add(&rs[i])
		}
		seg = e.appendSegment(seg[:0])
	}
	b.ReportMetric(float64(len(seg))/float64(len(rs)), "bytes/reading")
	b.ReportMetric(float64(b.N*len(rs))/b.Elapsed().Seconds(), "readings/s")
}

func BenchmarkDecodeSegment(b *testing.B) {
	rs := loadReadings(4096, 100)
	e := newTestEncoder()
	e.reset(time.Now())
	for i := range rs {
		e.add(&rs[i])
	}
	seg := e.appendSegment(nil)
	out := make([]fb.Reading, 0, len(rs))
	b.ReportAllocs()
	for b.Loop() {
		out, _ = decodeSegment(out[:0], seg, e.dict.names, 1, 0, len(rs))
	}
	b.ReportMetric(float64(b.N*len(rs))/b.Elapsed().Seconds(), "readings/s")
}

// newTestEncoder returns an encoder with a dictionary of its own.
func newTestEncoder() *encoder { return &encoder{dict: &dictionary{}} }

// TestSegmentVersionByBridgeTime: a segment is version 2 as before unless
// a reading in it has a bridge time; then it is version 3, which a bridge
// that predates bridge times refuses as corrupt instead of misreading.
func TestSegmentVersionByBridgeTime(t *testing.T) {
	rs := sampleReadings()
	for _, tc := range []struct {
		withBT bool
		want   byte
	}{{false, segVersion}, {true, segBridge}} {
		e := newTestEncoder()
		e.reset(time.Date(2026, 11, 28, 4, 31, 0, 0, time.UTC))
		for i := range rs {
			r := rs[i]
			if !tc.withBT {
				r.BridgeTime = time.Time{}
			}
			e.add(&r)
		}
		if seg := e.appendSegment(nil); seg[1] != tc.want {
			t.Errorf("bridge times %v: version %d, want %d", tc.withBT, seg[1], tc.want)
		}
	}
}
