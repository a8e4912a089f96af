//go:build linux

package testenv

import (
	"context"
	"testing"
	"time"
)

// TestSimulatorCountsSessions: each client connection shows up once on the
// server's side, as a channel, a session created and activated; a close
// shows as closed. The simulator's check at start that it listens opens a
// TCP connection but no channel: it counts nothing.
func TestSimulatorCountsSessions(t *testing.T) {
	sim := StartSimulator(t, SimOptions{LogSessions: true})
	ctx := testContext(t)
	if got := sim.Sessions(t); got != (SessionCounts{}) {
		t.Fatalf("before any client: %+v, want none", got)
	}
	first := connect(ctx, t, sim.Endpoint)
	if got, want := sim.Sessions(t), (SessionCounts{Channels: 1, Created: 1, Activated: 1}); got != want {
		t.Fatalf("after one connect: %+v, want %+v\n%s", got, want, sim.LogTail())
	}
	if err := first.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	connect(ctx, t, sim.Endpoint)
	want := SessionCounts{Channels: 2, Created: 2, Activated: 2, Closed: 1}
	Wait(t, 10*time.Second, "the second session in the log", func() bool { return sim.Sessions(t) == want })
}

// TestSimulatorSessionsCountEveryRun: the counts cover every run of the
// simulator, so a server restarted under a test does not hide a session.
func TestSimulatorSessionsCountEveryRun(t *testing.T) {
	sim := StartSimulator(t, SimOptions{LogSessions: true})
	ctx := testContext(t)
	connect(ctx, t, sim.Endpoint)
	if err := sim.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := sim.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	connect(ctx, t, sim.Endpoint)
	if got := sim.Sessions(t); got.Created != 2 || got.Channels != 2 {
		t.Fatalf("after a session in each of two runs: %+v, want 2 channels and 2 sessions", got)
	}
}
