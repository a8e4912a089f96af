package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// TestEventsE2E publishes the simulator's fault events from the Server
// object (only its own FaultEventType, with condition fields the server
// does not have and a field of the fault type) and every event of the
// assembly station object: "type":"event" messages on the events topic,
// fields as selected, the type filter applied, and events and readings
// sharing one dense sequence.
func TestEventsE2E(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{Speed: 50, Seed: 3})
	broker := testenv.StartMosquitto(t)
	log := subscribeAll(t, broker.URL, "fb/ev")
	cfg := acqHead(t, "ev", broker.URL) + fmt.Sprintf(`
[[servers]]
name = "sim"
endpoint = %q
publishing_interval = "100ms"

[[lines]]
name = "line"

[[lines.stations]]
name = "plant"
nodes = [{ name = "assemblyStatus", id = "%sassembly.Status" }]

[lines.stations.events]
name = "faults"
fields = ["EventId", "EventType", "SourceName", "Time", "Message", "Severity", "ConditionName", "AckedState/Id", "Retain",
          "nsu=http://opcfoundation.org/UA/Station/;FaultDuration"]
types = ["%sFaultEventType"]

[[lines.stations]]
name = "assembly"
nodes = [{ name = "Status", id = "%sassembly.Status" }]

[lines.stations.events]
sources = ["%sassembly"]
fields = ["EventType", "SourceName", "Message", "Severity"]
`, sim.Endpoint, simStation, simStation, simStation, simStation)
	br := testenv.StartBridge(t, writeConfig(t, cfg))
	testenv.Wait(t, 60*time.Second, "3 faults and a cleared fault of assembly", func() bool {
		faults, cleared := 0, false
		for _, e := range log.eventList() {
			faults += boolInt(e.Name == "line/plant/faults")
			cleared = cleared || (e.Name == "line/assembly/events" && strings.Contains(e.Value.Str, "fault cleared"))
		}
		return faults >= 3 && cleared
	})
	lastSeq := br.StopDrained(t)
	log.checkNoErrors(t)
	checkDense(t, lastSeq, 0, log.allSeqs)
	for _, e := range log.eventList() {
		checkEvent(t, e)
	}
	if got := log.topicsOf("event"); !slices.Equal(got, []string{"fb/ev/line/assembly/events", "fb/ev/line/plant/events"}) {
		t.Errorf("events came on %v, want mqtt.event_topic of each station", got)
	}
	if br.Entries("condition refresh not available on this server: condition states arrive with their next change") == nil {
		t.Errorf("ConditionRefresh's failure not logged:\n%s", br.LogTail())
	}
}

func checkEvent(t *testing.T, e fb.Reading) {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal([]byte(e.Value.Str), &f); err != nil {
		t.Fatalf("event fields %s: %v", e.Value.Str, err)
	}
	switch e.Name {
	case "line/plant/faults":
		if f["EventType"] != simStation+"FaultEventType" || f["Severity"] != 700.0 || f["FaultDuration"] == nil ||
			f["ConditionName"] != nil || f["AckedState/Id"] != nil || f["Retain"] != nil || e.NodeID != "i=2253" ||
			e.SourceTime.IsZero() || e.Station != "plant" {
			t.Errorf("fault event %+v fields %s", e, e.Value.Str)
		}
	case "line/assembly/events":
		if f["SourceName"] != "assembly" || len(f) != 4 || e.NodeID != simStation+"assembly" {
			t.Errorf("assembly event %+v fields %s", e, e.Value.Str)
		}
	default:
		t.Errorf("event of unknown name %q", e.Name)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
