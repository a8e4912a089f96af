package opcua

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

const faultType = stationID + "FaultEventType"

// TestEvents subscribes to the simulator's events twice: on the Server
// object with the fields of a condition and of the fault type's own, only
// fault events; and on a station object, every event. It checks the fields
// delivered, the filter, and that a server without conditions (Debian's
// open62541) gets null condition fields and a quiet ConditionRefresh.
func TestEvents(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{Speed: 50, Seed: 3})
	opts := testServer("ev", sim.Endpoint)
	opts.Events = []EventSource{
		{Name: "line/faults/events", Line: "line", Station: "faults", Server: "ev",
			Fields: []string{"EventId", "EventType", "SourceName", "Time", "ReceiveTime", "Message", "Severity",
				"ConditionName", "Retain", "AckedState", "ActiveState/Id", "nsu=http://opcfoundation.org/UA/Station/;FaultDuration",
				"nsu=http://opcfoundation.org/UA/Station/;NoSuchField"},
			Types: []string{faultType}, ConditionRefresh: true, PublishingInterval: 50 * time.Millisecond},
		{Name: "line/assembly/events", Line: "line", Station: "assembly", Server: "ev", ID: stationID + "assembly",
			Fields: []string{"EventType", "SourceName", "Severity", "Message"}},
	}
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := newClient(t, testOptions(opts, sink, logs))
	runClient(t, c)
	sink.waitFor(t, 60*time.Second, "a fault of assembly cleared, and 3 fault events", func(rs []fb.Reading) bool {
		cleared := false
		for _, r := range ofClass(rs, "line/assembly/events", fb.ClassEvent) {
			cleared = cleared || strings.Contains(r.Value.Str, "fault cleared")
		}
		return cleared && len(ofClass(rs, "line/faults/events", fb.ClassEvent)) >= 3
	})
	for _, r := range ofClass(sink.snapshot(), "line/faults/events", fb.ClassEvent) {
		var f map[string]any
		if err := json.Unmarshal([]byte(r.Value.Str), &f); err != nil {
			t.Fatalf("fields %s: %v", r.Value.Str, err)
		}
		if f["EventType"] != faultType || f["Severity"] != 700.0 || f["FaultDuration"] == nil ||
			!strings.HasPrefix(f["Message"].(string), f["SourceName"].(string)+": fault for ") || f["EventId"] == "" {
			t.Errorf("fault event %s", r.Value.Str)
		}
		// The server has no conditions, so their fields are null; it
		// rejected the item for the unknown field, which is null too.
		for _, null := range []string{"ConditionName", "Retain", "AckedState", "ActiveState/Id", "NoSuchField"} {
			if v, ok := f[null]; !ok || v != nil {
				t.Errorf("field %s = %v, want null", null, v)
			}
		}
		if r.SourceTime.IsZero() || r.ServerTime.Before(r.SourceTime) || r.NodeID != DefaultEventNotifier {
			t.Errorf("event times %v, %v and source %q", r.SourceTime, r.ServerTime, r.NodeID)
		}
	}
	for _, r := range ofClass(sink.snapshot(), "line/assembly/events", fb.ClassEvent) {
		if !strings.Contains(r.Value.Str, `"SourceName":"assembly"`) {
			t.Errorf("event of another station on the assembly notifier: %s", r.Value.Str)
		}
	}
	if c.Stats().ItemsOK != 2 {
		t.Errorf("%d event items, want 2", c.Stats().ItemsOK)
	}
	checkLoggedOnce(t, logs, "condition refresh not available on this server: condition states arrive with their next change", "INFO")
	checkLoggedOnce(t, logs, "event fields the server does not have are null", "INFO")
	if rec := logs.Records("event fields the server does not have are null"); len(rec) == 1 && rec[0]["fields"] != "nsu=http://opcfoundation.org/UA/Station/;NoSuchField" {
		t.Errorf("missing fields logged as %v", rec[0]["fields"])
	}
}
