package opcua

import (
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// pathNode is a test node addressed by browse path, named for it.
func pathNode(server, path string) Node {
	n := testNode(server, path)
	n.ID, n.Path = "", path
	return n
}

// TestBrowsePaths subscribes to nodes by browse path against the simulator:
// a path whose namespace is found at connect, a qualified one, one in the
// Types namespace, and two that do not resolve. The bad paths give one Bad
// reading and one log line each; the others deliver.
func TestBrowsePaths(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{Speed: 10})
	good := []string{
		"Objects/FactoryLine/assembly/IdealCycleTime",
		"Objects/nsu=" + stationNS + ";FactoryLine/test/IdealCycleTime",
		"/Objects/Types/Int32",
	}
	bad := map[string]ua.StatusCode{
		"Objects/FactoryLine/assembly/NoSuchVariable": ua.StatusBadNoMatch,
		"Objects/nsu=urn:no-such-namespace;Line/x":    ua.StatusBadNoMatch,
	}
	opts := testServer("paths", sim.Endpoint)
	for _, p := range good {
		opts.Nodes = append(opts.Nodes, pathNode("paths", p))
	}
	for p := range bad {
		opts.Nodes = append(opts.Nodes, pathNode("paths", p))
	}
	opts.Nodes = append(opts.Nodes, testNode("paths", typesNS+"Boolean")) // ids and paths mix
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := newClient(t, testOptions(opts, sink, logs))
	runClient(t, c)

	testenv.Wait(t, 10*time.Second, "4 items ok, 2 failed", func() bool {
		s := c.Stats()
		return s.ItemsOK == 4 && s.ItemsFailed == 2
	})
	sink.waitFor(t, 10*time.Second, "a reading of every node", func(rs []fb.Reading) bool {
		return len(distinctNames(rs)) == len(opts.Nodes)
	})
	checkPathReadings(t, sink.byName(), good, bad)
	recs := logs.Records("monitored item failed")
	if len(recs) != len(bad) {
		t.Errorf("%d 'monitored item failed' logs, want %d: %v", len(recs), len(bad), recs)
	}
	for _, r := range recs {
		p, _ := r["path"].(string)
		reason, _ := r["reason"].(string)
		if _, ok := bad[p]; !ok || r["status"] != statusString(bad[p]) || !strings.Contains(reason, "browse path") && !strings.Contains(reason, "NamespaceArray") {
			t.Errorf("log %v: want a bad path, its status and why", r)
		}
	}
}

func checkPathReadings(t *testing.T, byName map[string][]fb.Reading, good []string, bad map[string]ua.StatusCode) {
	t.Helper()
	for _, p := range good {
		rs := byName["line/station/"+p]
		if len(rs) == 0 || !rs[0].IsGood() || rs[0].NodeID != p || rs[0].Value.Type == fb.TypeNull {
			t.Errorf("path %s: readings %+v, want Good values with NodeID = the path", p, rs)
		}
	}
	if rs := byName["line/station//Objects/Types/Int32"]; len(rs) == 0 || int64(rs[0].Value.Bits) != -2147483648 {
		t.Errorf("Types/Int32 by path: %+v, want -2147483648", rs)
	}
	for p, status := range bad {
		rs := byName["line/station/"+p]
		if len(rs) != 1 || rs[0].Status != uint32(status) || rs[0].Value.Type != fb.TypeNull || rs[0].NodeID != p {
			t.Errorf("path %s: readings %+v, want one Null reading with status %s", p, rs, statusString(status))
		}
	}
}
