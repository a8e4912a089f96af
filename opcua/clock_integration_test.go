package opcua

import (
	"sync"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// clockRig is a simulator whose clock is off (libfaketime), its line
// running fast, and a client of its stations' counters and states.
type clockRig struct {
	sim    *testenv.Simulator
	sink   *recordSink
	logs   *testenv.Logs
	client *Client
	start  time.Time // real time before the simulator started

	mu    sync.Mutex
	steps []time.Duration
}

func newClockRig(t *testing.T, fake string, clock ClockOptions) *clockRig {
	t.Helper()
	r := &clockRig{sink: newRecordSink(), logs: &testenv.Logs{}, start: time.Now()}
	r.sim = testenv.StartSimulator(t, testenv.SimOptions{FakeTime: fake, Speed: 50, Seed: 3})
	var ids []string
	for _, st := range []string{"assembly", "test", "packaging"} {
		for _, v := range []string{"Status", "NumberOfManufacturedProducts"} {
			ids = append(ids, "nsu="+stationNS+";s="+st+"."+v)
		}
	}
	opts := testOptions(testServer("plc", r.sim.Endpoint, ids...), r.sink, r.logs)
	clock.OnStep = func(_ string, step time.Duration, _ time.Time) {
		r.mu.Lock()
		r.steps = append(r.steps, step)
		r.mu.Unlock()
	}
	opts.Clock = clock
	r.client = newClient(t, opts)
	runClient(t, r.client)
	return r
}

// waitReadings waits until n more readings than now have arrived.
func (r *clockRig) waitReadings(t *testing.T, n int) {
	t.Helper()
	have := len(r.sink.snapshot())
	r.sink.waitFor(t, 30*time.Second, "readings", func(rs []fb.Reading) bool { return len(rs) >= have+n })
}

// checkOnRealTime fails for a reading whose time is not the real time it
// was made at (between the rig's start and now), or whose source timestamp
// is not the simulator's, off by skew.
func (r *clockRig) checkOnRealTime(t *testing.T, skew time.Duration) {
	t.Helper()
	end := time.Now().Add(time.Second)
	for _, rd := range r.sink.snapshot() {
		at := rd.Time()
		if at.Before(r.start.Add(-time.Second)) || at.After(end) {
			t.Fatalf("%s placed at %v, outside the real time of the test [%v, %v]", rd.Name, at, r.start, end)
		}
		if d := rd.SourceTime.Sub(at) - skew; d.Abs() > 2*time.Second {
			t.Fatalf("%s: source timestamp %v is not the simulator's (skew %v) at %v", rd.Name, rd.SourceTime, skew, at)
		}
	}
}

// TestClockSkewedServers: a server whose clock is 2 h ahead, 2 h behind or
// 10 min behind is connected, warned about once, its offset is in the
// stats, and its readings are placed on the real clock while they keep
// their source timestamps.
func TestClockSkewedServers(t *testing.T) {
	for _, tc := range []struct {
		fake string
		skew time.Duration
	}{{"+2h", 2 * time.Hour}, {"-2h", -2 * time.Hour}, {"-10m", -10 * time.Minute}} {
		t.Run(tc.fake, func(t *testing.T) {
			r := newClockRig(t, tc.fake, ClockOptions{})
			r.waitReadings(t, 30)
			if n := r.logs.Count("server clock differs from the bridge's"); n != 1 {
				t.Errorf("%d skew warnings, want 1:\n%s", n, r.logs)
			}
			st := r.client.Stats().Clock
			if (st.Offset-tc.skew).Abs() > time.Second || !st.Skewed || !st.Correcting {
				t.Errorf("clock stats %+v, want an offset of %v, skewed and correcting", st, tc.skew)
			}
			r.checkOnRealTime(t, tc.skew)
		})
	}
}

// TestClockSetForward: a PLC's clock set forward by an hour while data
// flows is a step: measured at once, told to OnStep, warned about once, and
// no reading leaves the real clock, before, across or after it.
func TestClockSetForward(t *testing.T) {
	r := newClockRig(t, "+0", ClockOptions{})
	r.waitReadings(t, 20)
	r.checkOnRealTime(t, 0)
	stepAt := len(r.sink.snapshot())
	if err := r.sim.SetFakeTime("+1h"); err != nil {
		t.Fatal(err)
	}
	testenv.Wait(t, 30*time.Second, "the step to be found", func() bool { return r.client.Stats().Clock.Steps == 1 })
	r.waitReadings(t, 30)
	rs := r.sink.snapshot()
	end := time.Now().Add(time.Second)
	for _, rd := range rs[stepAt:] {
		if at := rd.Time(); at.Before(r.start) || at.After(end) {
			t.Fatalf("%s (source %v) placed at %v, off the real clock", rd.Name, rd.SourceTime, at)
		}
	}
	r.mu.Lock()
	steps := r.steps
	r.mu.Unlock()
	if len(steps) != 1 || (steps[0]-time.Hour).Abs() > time.Second {
		t.Errorf("steps %v, want one of 1h", steps)
	}
	if n := r.logs.Count("server clock differs from the bridge's"); n != 1 {
		t.Errorf("%d skew warnings, want 1:\n%s", n, r.logs)
	}
}

// TestClockBehindSecureRenewals: a signed session with a server two hours
// behind survives its secure channel's token renewals. gopcua timed a
// token's expiry by the server's CreatedAt, so every token had expired on
// arrival and, once a token's id equalled its channel's, the client
// dropped every response (StatusBadTimeout): third_party/gopcua patch 6.
func TestClockBehindSecureRenewals(t *testing.T) {
	defer setChannelLifetime(2 * time.Second)() // a renewal every 1.5 s
	r := newSecureRigSim(t, testenv.ServerCert{}, testenv.SimSecurity{},
		testenv.SimOptions{LoadNodes: 2, Rate: 20, FakeTime: "-2h"})
	r.trustServer(t)
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := r.client(t, "Basic256Sha256", "Sign", sink, logs)
	runClient(t, c)
	sink.waitFor(t, 20*time.Second, "readings over a signed session", someData)
	time.Sleep(6 * time.Second) // four renewals: nothing to wait for but the clock
	have := len(sink.snapshot())
	sink.waitFor(t, 5*time.Second, "readings after the renewals", func(rs []fb.Reading) bool { return len(rs) > have+20 })
	if st := c.Stats(); st.Reconnects != 0 || logs.Contains("connection lost") {
		t.Errorf("the session was rebuilt %d times:\n%s", st.Reconnects, logs)
	}
}
