package opcua

import (
	"strings"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// TestWatchdog silences the TCP connection of one client (the server neither
// closes it nor answers): the watchdog rebuilds that session in about its
// limit, while a second client of the same server carries on untouched.
func TestWatchdog(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 2, Rate: 10})
	proxy := startProxy(t, sim.Endpoint)
	// Limit: max(3 × revised keep-alive (100 ms × 2), 1 s) = 1 s. The floor
	// keeps a loaded test machine from tripping it before the silence.
	const keepAlive, limit = 200 * time.Millisecond, time.Second
	start := func(name, endpoint string, floor time.Duration) (*Client, *recordSink, *testenv.Logs) {
		sink, logs := newRecordSink(), &testenv.Logs{}
		opts := testOptions(testServer(name, endpoint, loadIDs(2)...), sink, logs)
		opts.RequestTimeout = time.Second
		opts.KeepAlive, opts.WatchdogFloor = keepAlive, floor
		c := newClient(t, opts)
		runClient(t, c)
		sink.waitFor(t, 10*time.Second, name+" data", func(rs []fb.Reading) bool { return len(rs) > 0 })
		return c, sink, logs
	}
	proxied, proxiedSink, logs := start("proxied", proxy.Endpoint, limit)
	// The direct client's watchdog is lenient: a starved simulator on a busy
	// test machine must not make it look affected.
	direct, _, directLogs := start("direct", sim.Endpoint, 10*time.Second)
	base, directBase := proxied.Stats(), direct.Stats()

	proxy.silence()
	silenced := time.Now()
	testenv.Wait(t, 10*time.Second, "the silent session rebuilt", func() bool {
		s := proxied.Stats()
		return s.Reconnects > base.Reconnects && s.State == StateConnected
	})
	rebuilt := time.Since(silenced)
	n := len(proxiedSink.snapshot())
	proxiedSink.waitFor(t, 10*time.Second, "data after the rebuild", func(rs []fb.Reading) bool { return len(rs) > n })

	// The limit counts from the last data, a little before the silence; then
	// come up to a tick (~170 ms), back-off (≤ 50 ms) and a loopback connect.
	t.Logf("silent session rebuilt %s after the silence (limit %s)", rebuilt.Round(time.Millisecond), limit)
	if rebuilt > limit+2*time.Second {
		t.Errorf("rebuilt %s after the silence, want about the %s limit", rebuilt, limit)
	}
	downs := logs.Records("server down")
	if err, _ := downs[len(downs)-1]["err"].(string); !strings.Contains(err, "watchdog") || !strings.Contains(err, "limit 1s") {
		t.Errorf("server down because %q, want the watchdog with its 1 s limit", err)
	}
	if len(logs.Records("data gap")) == 0 {
		t.Errorf("no data gap logged:\n%s", logs)
	}
	if s := direct.Stats(); s.Reconnects != directBase.Reconnects || s.State != StateConnected ||
		!s.LastData.After(silenced.Add(rebuilt/2)) {
		t.Errorf("direct client: %+v; want untouched and receiving\n%s\nproxied:\n%s", s, directLogs, logs)
	}
}
