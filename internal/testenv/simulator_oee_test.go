//go:build linux

package testenv

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

// simTruth is one line of the simulator's truth log, the fields this test reads.
type simTruth struct {
	Event, Station string
	Status         int
	Good, Bad      uint64
	FaultyMS       uint64 `json:"faulty_ms"`
	Reason         uint32
	GoodNode       uint64 `json:"good_node"`
	BadNode        uint64 `json:"bad_node"`
}

// TestSimulatorCountersResetAndReasons: with -counter-bits 16, -counter-start
// and -reset-at the part counters are UInt16 that wrap and reset, and every
// fault carries a reason code; the truth log shows both the parts made and
// what the nodes showed.
func TestSimulatorCountersResetAndReasons(t *testing.T) {
	truth := filepath.Join(t.TempDir(), "truth.jsonl")
	sim := StartSimulator(t, SimOptions{Seed: 7, Speed: 50, CounterBits: 16, CounterStart: 65520,
		ResetAt: 3 * time.Minute, Truth: truth})
	ctx := testContext(t)
	c := connect(ctx, t, sim.Endpoint)
	ns := namespace(ctx, t, c, nsStation)
	dvs := read(ctx, t, c, ua.NewStringNodeID(ns, "assembly.NumberOfManufacturedProducts"),
		ua.NewStringNodeID(ns, "assembly.StopReason"))
	if dvs[0].Value.Type() != ua.TypeIDUint16 || dvs[1].Value.Type() != ua.TypeIDUint32 {
		t.Errorf("counter %v, reason %v; want UInt16, UInt32", dvs[0].Value.Type(), dvs[1].Value.Type())
	}
	var lines []simTruth
	Wait(t, 30*time.Second, "a reset of every station and a fault in the truth log", func() bool {
		lines = readSimTruth(t, truth)
		resets, faults := 0, 0
		for _, l := range lines {
			resets += b2i(l.Event == "reset")
			faults += b2i(l.Status == 4)
		}
		return resets == 3 && faults > 0
	})
	checkSimTruth(t, lines)
}

// checkSimTruth checks the node values against the parts (a good counter
// must have wrapped before the reset) and the reason codes against the
// fault lengths.
func checkSimTruth(t *testing.T, lines []simTruth) {
	t.Helper()
	base := map[string][2]uint64{} // station → parts when the counters were last 0 (or start)
	fault := map[string]simTruth{}
	wrapped := false
	for _, l := range lines {
		if l.Event == "start" {
			base[l.Station] = [2]uint64{65536 - 65520, 65536 - 65520} // node = start + parts
		}
		wrapped = wrapped || l.Event == "state" && l.GoodNode < 16 && l.Good >= 16 && base[l.Station][0] == 16
		if l.Event == "reset" {
			base[l.Station] = [2]uint64{l.Good, l.Bad}
		}
		b := base[l.Station]
		if l.GoodNode != (l.Good-b[0])&0xffff || l.BadNode != (l.Bad-b[1])&0xffff {
			t.Errorf("%s %s: nodes %d/%d for parts %d/%d", l.Station, l.Event, l.GoodNode, l.BadNode, l.Good, l.Bad)
		}
		if f, ok := fault[l.Station]; ok && l.Status != 4 {
			checkReason(t, f, l.FaultyMS-f.FaultyMS)
			delete(fault, l.Station)
		}
		switch {
		case l.Status == 4:
			fault[l.Station] = l
		case l.Reason != 0:
			t.Errorf("%s status %d: reason %d outside a fault", l.Station, l.Status, l.Reason)
		}
	}
	if !wrapped {
		t.Error("no good counter wrapped before the reset")
	}
}

func checkReason(t *testing.T, f simTruth, ms uint64) {
	t.Helper()
	want := uint32(3)
	switch {
	case ms < 20000:
		want = 1
	case ms < 40000:
		want = 2
	}
	if f.Reason != want {
		t.Errorf("%s: a %d-ms fault has reason %d, want %d", f.Station, ms, f.Reason, want)
	}
}

func readSimTruth(t *testing.T, path string) []simTruth {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []simTruth
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l simTruth
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("truth line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
