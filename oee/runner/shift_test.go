package runner

import (
	"testing"

	"factorybridge/oee"
)

// TestShift: the shift-to-date records of a tick are kept per scope, and a
// tick outside a shift (rolling records only) forgets them.
func TestShift(t *testing.T) {
	r := &Runner{latest: map[string]oee.Record{}, current: map[[2]string]oee.Record{},
		stations: [][2]string{{"l", "a"}, {"l", "b"}}}
	inShift := []oee.Record{
		{Kind: oee.KindRolling, Line: "l", Station: "a"}, {Kind: oee.KindRolling, Line: "l", Station: "b"},
		{Kind: oee.KindRolling, Line: "l"},
		{Kind: oee.KindShiftToDate, Line: "l", Station: "a", Shift: "early"},
		{Kind: oee.KindShiftToDate, Line: "l", Station: "b", Shift: "early"},
		{Kind: oee.KindShiftToDate, Line: "l", Shift: "early"},
		{Kind: oee.KindHour, Line: "l", Shift: "early"},
	}
	r.noteLatest(inShift)
	got := r.Shift()
	if len(got) != 3 || got[0].Station != "" || got[1].Station != "a" || got[2].Station != "b" {
		t.Fatalf("Shift() = %+v, want the line's then a's and b's shift-to-date records", got)
	}
	r.noteLatest(inShift[:3])
	if got := r.Shift(); len(got) != 0 {
		t.Errorf("Shift() after a tick outside a shift = %+v, want none", got)
	}
}
