package runner

import (
	"encoding/json"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
)

// bf is a reading of station's node read from history after a gap.
func bf(station, node string, at time.Duration, v uint64) fb.Reading {
	r := rd(station, node, at, v)
	r.Class, r.Server = fb.ClassBackfill, "plc1"
	return r
}

// savedRecords returns the records of kind k of station saved so far.
func (h *harness) savedRecords(k oee.Kind, station string) []map[string]any {
	h.t.Helper()
	var out []map[string]any
	for _, c := range h.store.calls() {
		for _, e := range c.records {
			var m map[string]any
			if err := json.Unmarshal([]byte(e.Value.Str), &m); err != nil {
				h.t.Fatal(err)
			}
			if m["kind"] == string(k) && m["station"] == station {
				out = append(out, m)
			}
		}
	}
	return out
}

// TestGapFilledRevisesOpenRecords: server plc1's session is lost at 59:30
// and back at 61:00, its gap filled from history. The hour record closed
// at 60:00 went out with 30 s unknown and is not sent again; the rolling
// record counts the gap as known, with the fault and the parts history
// showed. Station b, on another server, is untouched.
func TestGapFilledRevisesOpenRecords(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0), rd("b", "Status", 0, 1), rd("b", "Count", 0, 0))
	h.step(30 * time.Minute)
	store.commit(rd("a", "Count", 50*time.Minute, 100))
	h.step(59 * time.Minute)
	h.r.OnState("plc1", false, t0.Add(59*time.Minute+30*time.Second))
	h.step(61 * time.Minute)
	if u := h.rolling("a").UnknownS; u != 90 {
		t.Fatalf("unknown %v s before the gap is filled, want 90", u)
	}
	store.commit(bf("a", "Status", 59*time.Minute+40*time.Second, 4), bf("a", "Status", 59*time.Minute+50*time.Second, 1),
		bf("a", "Count", 60*time.Minute+30*time.Second, 110))
	h.r.GapFilled("plc1", []string{"l/a/Status", "l/a/Count"})
	h.r.OnState("plc1", true, t0.Add(61*time.Minute))
	h.step(62 * time.Minute)

	a := h.rolling("a")
	if a.UnknownS != 0 || a.UnplannedStopS != 10 || a.Total != 110 || a.GapParts != 0 {
		t.Errorf("rolling a: unknown %v s, unplanned %v s, total %d, gap parts %d; want 0, 10, 110, 0",
			a.UnknownS, a.UnplannedStopS, a.Total, a.GapParts)
	}
	if b := h.rolling("b"); b.UnknownS != 0 || b.RunS != b.PlannedS {
		t.Errorf("rolling b: unknown %v s, run %v of %v s; want all run", b.UnknownS, b.RunS, b.PlannedS)
	}
	hours := h.savedRecords(oee.KindHour, "a")
	if len(hours) != 1 || hours[0]["unknown_s"] != 30.0 {
		t.Errorf("hour records of a %v: want one, sent once with the 30 s unknown", hours)
	}
	if len(h.logs.Records("oee: gap filled from history; its time is known again")) != 1 {
		t.Errorf("revision not logged:\n%s", h.logs)
	}
}

// TestGapNotFilledStaysUnknown: a GapFilled that does not name every role
// node of a station leaves that station's gap unknown, and the backfilled
// readings still count (late, as gap parts).
func TestGapNotFilledStaysUnknown(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0))
	h.step(10 * time.Second)
	h.r.OnState("plc1", false, t0.Add(20*time.Second))
	h.step(30 * time.Second)
	store.commit(bf("a", "Count", 25*time.Second, 7))
	h.r.GapFilled("plc1", []string{"l/a/Count"}) // Status not filled
	h.r.OnState("plc1", true, t0.Add(40*time.Second))
	h.step(50 * time.Second)
	a := h.rolling("a")
	if a.UnknownS < 20 || a.Total != 7 {
		t.Errorf("rolling a: unknown %v s, total %d; want the gap unknown (≥ 20 s) and the 7 parts counted", a.UnknownS, a.Total)
	}
}

// TestRestartGapFilled: after a crash, the time since the last save is a
// gap of every station; plc1's, filled from history, becomes known again,
// plc2's (no backfill) stays unknown.
func TestRestartGapFilled(t *testing.T) {
	store := newFakeStore()
	h := newHarness(t, store)
	store.commit(rd("a", "Status", 0, 1), rd("a", "Count", 0, 0), rd("b", "Status", 0, 1), rd("b", "Count", 0, 0))
	h.step(40 * time.Second)
	store.commit(rd("a", "Count", 50*time.Second, 40)) // committed after the save, then the process dies

	h2 := newHarness(t, store)
	h2.take(1 << 20)
	h2.step(2 * time.Minute) // the new process is up; the servers are not back yet
	store.commit(bf("a", "Status", 70*time.Second, 4), bf("a", "Status", 80*time.Second, 1), bf("a", "Count", 100*time.Second, 60))
	h2.r.GapFilled("plc1", []string{"l/a/Status", "l/a/Count"})
	h2.r.OnState("plc1", true, t0.Add(2*time.Minute))
	h2.r.OnState("plc2", true, t0.Add(2*time.Minute))
	store.commit(rd("b", "Status", 2*time.Minute, 1))
	h2.step(3 * time.Minute)
	a, b := h2.rolling("a"), h2.rolling("b")
	if a.UnknownS != 0 || a.UnplannedStopS != 10 || a.Total != 60 || a.GapParts != 0 {
		t.Errorf("rolling a: unknown %v s, unplanned %v s, total %d, gap parts %d; want 0, 10, 60, 0",
			a.UnknownS, a.UnplannedStopS, a.Total, a.GapParts)
	}
	// The dead process committed a reading at 50 s, so it saw the line until
	// then: b's gap runs from the last committed reading, not the last save.
	if b.UnknownS != 70 {
		t.Errorf("rolling b: unknown %v s, want 70 (50 s to 2 min)", b.UnknownS)
	}
}
