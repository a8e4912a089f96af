package oee

import "testing"

func TestCounterUpdate(t *testing.T) {
	tests := []struct {
		typ        string
		last, next uint64
		limit      uint64
		want       uint64
		bad        bool
	}{
		{"uint64", 10, 15, 0, 5, false},
		{"int16", 32767, 0x8000, 10, 1, false},               // +32767 → −32768 is one part
		{"uint16", 65530, 4, 20, 10, false},                  // wrap
		{"uint16", 30000, 5, 20, 5, false},                   // reset: delta is the new value
		{"uint32", 1<<32 - 1, 0, 5, 1, false},                // wrap
		{"int32", 1<<31 - 1, 1 << 31, 5, 1, false},           // wrap to −2147483648
		{"uint64", 100, 5000, 50, 0, true},                   // implausible
		{"uint64", 1<<64 - 2, 3, 0, 5, false},                // wrap, no limit known
		{"uint64", 1000, 7, 0, 7, false},                     // reset, no limit known
		{"int16", 500, 0xFFFF & uint64(0xFFF6), 5, 0, false}, // reset to −10: nothing counted yet
	}
	for _, tt := range tests {
		var c counter
		c.bits, c.sign, _ = counterType(CounterType(tt.typ))
		c.update(tt.last, 0, 0)
		got, bad := c.update(tt.next, 1, tt.limit)
		if got != tt.want || bad != tt.bad {
			t.Errorf("%s %d → %d (limit %d) = %d, %v; want %d, %v", tt.typ, tt.last, tt.next, tt.limit, got, bad, tt.want, tt.bad)
		}
	}
}
