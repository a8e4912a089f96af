package bridge

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"factorybridge/opcua"
)

// TestClockInGetStatus: a server's measured clock offset shows in
// GetStatus, in seconds, and a server never measured shows none.
func TestClockInGetStatus(t *testing.T) {
	if c := clockOf(opcua.ClockStats{}); c != nil {
		t.Errorf("a clock never measured shows as %+v", c)
	}
	at := time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC)
	b, err := json.Marshal(serverStatus{Name: "plc", State: "connected", Clock: clockOf(opcua.ClockStats{
		Offset: -2 * time.Hour, Uncertainty: 500 * time.Microsecond, MeasuredAt: at, Skewed: true, Correcting: true})})
	if err != nil {
		t.Fatal(err)
	}
	const want = `"clock":{"offsetS":-7200,"uncertaintyS":0.0005,"measuredAt":"2026-03-04T07:00:00Z","skewed":true,"correcting":true,"steps":0}`
	if got := string(b); !strings.Contains(got, want) {
		t.Errorf("GetStatus server %s, want it to hold %s", got, want)
	}
}
