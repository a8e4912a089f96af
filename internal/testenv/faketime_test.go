//go:build linux

package testenv

import (
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

// TestSimulatorFakeTime: a simulator started with FakeTime answers with its
// clock off by that much, and SetFakeTime steps it while it runs.
func TestSimulatorFakeTime(t *testing.T) {
	sim := StartSimulator(t, SimOptions{FakeTime: "-2h"})
	ctx := testContext(t)
	c := connect(ctx, t, sim.Endpoint)
	offset := func() time.Duration {
		before := time.Now()
		dv := read(ctx, t, c, ua.NewNumericNodeID(0, id.Server_ServerStatus_CurrentTime))[0]
		return dv.Value.Value().(time.Time).Sub(before)
	}
	if d := offset(); (d + 2*time.Hour).Abs() > 5*time.Second {
		t.Fatalf("the simulator's clock is %v off, want -2h", d)
	}
	if err := sim.SetFakeTime("+1h"); err != nil {
		t.Fatal(err)
	}
	Wait(t, 10*time.Second, "the simulator's clock to step to +1h", func() bool {
		return (offset() - time.Hour).Abs() < 5*time.Second
	})
}
