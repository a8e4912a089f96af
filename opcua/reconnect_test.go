package opcua

import (
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// TestServerRestart stops and restarts the server: the client notices, logs
// the outage once, reconnects by itself, re-creates every item, logs the
// data gap, and does not log the bad node again.
func TestServerRestart(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 3, Rate: 20})
	const badNode = "ns=1;s=no.such.node"
	ids := append(loadIDs(3), badNode)
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := newClient(t, testOptions(testServer("restart", sim.Endpoint, ids...), sink, logs))
	runClient(t, c)
	sink.waitFor(t, 10*time.Second, "data before the restart", func(rs []fb.Reading) bool { return len(rs) > 0 })

	must(t, sim.Stop())
	stopped := time.Now()
	testenv.Wait(t, 10*time.Second, "state down", func() bool { return c.Stats().State == StateDown })
	before := c.Stats().LastData
	must(t, sim.Start())

	testenv.Wait(t, 20*time.Second, "a reconnect with every item back", func() bool {
		s := c.Stats()
		return s.Reconnects == 1 && s.State == StateConnected && s.ItemsOK == 3 && s.ItemsFailed == 1
	})
	testenv.Wait(t, 10*time.Second, "the gap closed", func() bool { return c.Stats().Gaps == 1 })
	s := c.Stats()
	if !s.LastGapStart.Equal(before) || !s.LastGapEnd.After(stopped) {
		t.Errorf("gap %v – %v; want from the last data %v to after the stop %v", s.LastGapStart, s.LastGapEnd, before, stopped)
	}
	t.Logf("outage: stopped %s, first data again %s later", stopped.Format(time.StampMilli), s.LastGapEnd.Sub(stopped))
	checkLoggedOnce(t, logs, "server down", "ERROR")
	back := checkLoggedOnce(t, logs, "server back", "INFO")
	gap := checkLoggedOnce(t, logs, "data gap", "INFO")
	if back["outage"] == nil || back["attempts"] == nil || gap["gap_start"] == nil || gap["gap_end"] == nil {
		t.Errorf("server back %v, data gap %v: want outage, attempts, gap_start, gap_end", back, gap)
	}
	if n := len(logs.Records("monitored items")); n != 2 {
		t.Errorf("%d item summaries logged, want one per session (2)", n)
	}
	checkFailedOnce(t, logs, map[string]ua.StatusCode{badNode: ua.StatusBadNodeIDUnknown})
}

// checkLoggedOnce checks that msg was logged exactly once at level and
// returns the record.
func checkLoggedOnce(t *testing.T, logs *testenv.Logs, msg, level string) map[string]any {
	t.Helper()
	recs := logs.Records(msg)
	if len(recs) != 1 || recs[0]["level"] != level {
		t.Errorf("%q logged %d times (%v), want once at %s:\n%s", msg, len(recs), recs, level, logs)
		return map[string]any{}
	}
	return recs[0]
}
