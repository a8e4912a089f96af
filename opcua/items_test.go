package opcua

import (
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// TestBadNodes checks that nodes the server rejects, and a namespace URI it
// does not know, fail alone: counted, logged once each, the rest delivered.
func TestBadNodes(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 1, Rate: 10})
	bad := map[string]ua.StatusCode{
		"ns=1;s=no.such.node":                ua.StatusBadNodeIDUnknown,
		typesNS + "NotReadable":              ua.StatusBadNotReadable,
		"nsu=urn:no-such-namespace;s=load.0": ua.StatusBadNodeIDUnknown,
	}
	ids := []string{typesNS + "Int32", loadNS + "0"}
	for id := range bad {
		ids = append(ids, id)
	}
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := newClient(t, testOptions(testServer("bad", sim.Endpoint, ids...), sink, logs))
	runClient(t, c)

	testenv.Wait(t, 10*time.Second, "2 items ok, 3 failed", func() bool {
		s := c.Stats()
		return s.ItemsOK == 2 && s.ItemsFailed == len(bad)
	})
	sink.waitFor(t, 10*time.Second, "readings of both good nodes", func(rs []fb.Reading) bool {
		got := distinctNames(rs)
		return got["line/station/"+typesNS+"Int32"] && got["line/station/"+loadNS+"0"]
	})
	for name, rs := range sink.byName() {
		// An unreadable node's readings go on, carrying its Bad status.
		if status, ok := bad[strings.TrimPrefix(name, "line/station/")]; ok && rs[0].Status != uint32(status) {
			t.Errorf("reading of failed node %s with status %#x", name, rs[0].Status)
		}
	}
	checkFailedOnce(t, logs, bad)
}

// checkFailedOnce checks that each bad node was logged exactly once with its
// name, id and status.
func checkFailedOnce(t *testing.T, logs *testenv.Logs, bad map[string]ua.StatusCode) {
	t.Helper()
	recs := logs.Records("monitored item failed")
	seen := map[string]int{}
	for _, r := range recs {
		id, _ := r["node_id"].(string)
		seen[id]++
		if want := bad[id]; r["status"] != statusString(want) || r["node"] != "line/station/"+id || r["level"] != "WARN" {
			t.Errorf("log %v: want node, status %q, WARN", r, statusString(want))
		}
	}
	for id := range bad {
		if seen[id] != 1 {
			t.Errorf("%s logged %d times, want once", id, seen[id])
		}
	}
	if len(recs) != len(bad) {
		t.Errorf("%d failure logs, want %d:\n%s", len(recs), len(bad), logs)
	}
}

// TestNamespaceURIResolution checks that an nsu= id and the ns= id of the
// same node deliver the same node's values.
func TestNamespaceURIResolution(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{})
	probe := newRecordSink()
	pc := newClient(t, testOptions(testServer("nsu", sim.Endpoint, typesNS+"ExpandedNodeId"), probe, &testenv.Logs{}))
	stop := runClient(t, pc)
	probe.waitFor(t, 10*time.Second, "the ExpandedNodeId value", func(rs []fb.Reading) bool { return len(rs) > 0 })
	stop()
	// types.ExpandedNodeId holds nsu=urn:factorybridge:types;s=types.String;
	// the server's index of that namespace comes from another node's NodeId
	// value: the simulator's types.NodeId is not in it, so ask the server.
	idx := namespaceIndex(t, sim.Endpoint, "urn:factorybridge:types")
	byIndex := strings.Replace(typesNS, "nsu=urn:factorybridge:types", "ns="+idx, 1) + "String"

	sink := newRecordSink()
	c := newClient(t, testOptions(testServer("nsu", sim.Endpoint, typesNS+"String", byIndex), sink, &testenv.Logs{}))
	runClient(t, c)
	sink.waitFor(t, 10*time.Second, "both ids", func(rs []fb.Reading) bool { return len(distinctNames(rs)) == 2 })
	got := sink.byName()
	a, b := got["line/station/"+typesNS+"String"][0], got["line/station/"+byIndex][0]
	if a.Value.Str != b.Value.Str || a.Value.Str == "" || a.NodeID == b.NodeID {
		t.Errorf("nsu= reading %+v, ns= reading %+v; want the same value, each its configured id", a, b)
	}
}

// TestChunkedCreate forces a tiny chunk size and checks that every item is
// created, in calls no larger than the chunk.
func TestChunkedCreate(t *testing.T) {
	const nodes, chunk = 200, 7
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: 2})
	sink, logs := newRecordSink(), &testenv.Logs{}
	opts := testOptions(testServer("chunks", sim.Endpoint, loadIDs(nodes)...), sink, logs)
	opts.MaxItemsPerCall = chunk
	c := newClient(t, opts)
	runClient(t, c)

	sink.waitFor(t, 10*time.Second, "a reading of every node", func(rs []fb.Reading) bool {
		return len(distinctNames(rs)) == nodes
	})
	if s := c.Stats(); s.ItemsOK != nodes || s.ItemsFailed != 0 {
		t.Errorf("items ok %d, failed %d; want %d, 0", s.ItemsOK, s.ItemsFailed, nodes)
	}
	calls := logs.Records("monitored items created")
	total := 0
	for _, r := range calls {
		n := int(r["items"].(float64))
		if n > chunk {
			t.Errorf("a call created %d items, chunk is %d", n, chunk)
		}
		total += n
	}
	if want := (nodes + chunk - 1) / chunk; len(calls) != want || total != nodes {
		t.Errorf("%d calls for %d items, want %d for %d", len(calls), total, want, nodes)
	}
}
