package buffer

import (
	"testing"
	"time"
)

func TestMapDropperDue(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	for _, tc := range []struct {
		name       string
		afterBytes int64
		read       int
		since      time.Duration
		want       bool
	}{
		{"nothing read, just dropped", dropAfterBytes, 0, time.Second, false},
		{"enough read", dropAfterBytes, dropAfterBytes, time.Second, true},
		{"a little read", dropAfterBytes, 4096, time.Second, false},
		{"interval passed", dropAfterBytes, 0, dropInterval, true},
		{"disabled", 0, 1 << 30, time.Hour, false},
	} {
		d := mapDropper{afterBytes: tc.afterBytes, last: t0}
		d.note(tc.read)
		if got := d.due(t0.Add(tc.since)); got != tc.want {
			t.Errorf("%s: due = %v, want %v", tc.name, got, tc.want)
		}
	}
}
