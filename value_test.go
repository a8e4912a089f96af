package factorybridge

import (
	"math"
	"testing"
	"time"
)

func TestTicksRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
	}{
		{"zero", time.Time{}},
		{"unix epoch", time.Unix(0, 0).UTC()},
		{"now to 100 ns", time.Date(2026, 11, 28, 4, 30, 0, 123456700, time.UTC)},
		{"before 1970", time.Date(1601, 1, 1, 0, 0, 0, 100, time.UTC)},
		{"far future", time.Date(9999, 12, 31, 23, 59, 59, 999999900, time.UTC)},
	}
	for _, tt := range tests {
		if got := TicksToTime(TimeToTicks(tt.t)); !got.Equal(tt.t) {
			t.Errorf("%s: round trip gave %v, want %v", tt.name, got, tt.t)
		}
	}
	if got := TimeToTicks(time.Unix(0, 0)); got != 116444736000000000 {
		t.Errorf("ticks of the unix epoch: %d", got)
	}
}

func TestValueAccessors(t *testing.T) {
	if v := IntValue(TypeInt16, -5); v.Int() != -5 || v.Type.Kind() != KindInt {
		t.Errorf("int: %+v", v)
	}
	if v := UintValue(TypeUInt64, math.MaxUint64); v.Uint() != math.MaxUint64 {
		t.Errorf("uint: %+v", v)
	}
	if v := FloatValue(TypeDouble, math.Inf(1)); !math.IsInf(v.Float(), 1) {
		t.Errorf("float: %+v", v)
	}
	if v := BoolValue(true); !v.Bool() || BoolValue(false).Bool() {
		t.Error("bool")
	}
	tm := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	if v := TimeValue(tm); !v.Time().Equal(tm) || v.Type != TypeDateTime {
		t.Errorf("time: %v", v.Time())
	}
	for typ := TypeNull; typ <= TypeDiagnosticInfo; typ++ {
		if typ.String() == "Unknown" {
			t.Errorf("type %d has no name", typ)
		}
	}
}

func TestReadingIsGood(t *testing.T) {
	for _, tt := range []struct {
		status uint32
		want   bool
	}{{0, true}, {0x00000480, true}, {0x40000000, false}, {0x80340000, false}} {
		r := Reading{Status: tt.status}
		if got := r.IsGood(); got != tt.want {
			t.Errorf("status %#x: good %v, want %v", tt.status, got, tt.want)
		}
	}
}
