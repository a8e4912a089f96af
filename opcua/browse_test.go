package opcua

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

// stationVars are the simulator's station variables and their data types
// (testdata/simulator/README.md); only assembly has Pressure.
var stationVars = map[string]string{
	"NumberOfManufacturedProducts": "UInt64", "NumberOfDiscardedProducts": "UInt64",
	"ProductSerialNumber": "UInt64", "FaultyTime": "UInt64", "Status": "Int32",
	"EnergyConsumption": "Double", "Pressure": "Double", "IdealCycleTime": "UInt64", "ActualCycleTime": "UInt64",
}

func browse(t testing.TB, endpoint string, b BrowseOptions) *BrowseResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Browse(ctx, Options{Name: "sim", Endpoint: endpoint, RequestTimeout: 10 * time.Second}, b)
	if err != nil {
		t.Fatalf("Browse: %v", err)
	}
	return res
}

// TestBrowseConnectedFactory browses the simulator's line and checks every
// documented station variable is found once, with its path, its id by
// namespace URI and its data type.
func TestBrowseConnectedFactory(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{})
	res := browse(t, sim.Endpoint, BrowseOptions{Start: "Objects/FactoryLine"})
	want := map[string]string{} // path → data type
	for _, st := range []string{"assembly", "test", "packaging"} {
		for v, typ := range stationVars {
			if v != "Pressure" || st == "assembly" {
				want["Objects/FactoryLine/"+st+"/"+v] = typ
			}
		}
	}
	got := map[string]string{}
	for _, n := range res.Nodes {
		p := n.PathString()
		if _, dup := got[p]; dup {
			t.Errorf("%s found twice", p)
		}
		got[p] = n.DataType
		st, v := n.Path[2].Name, n.Path[3].Name
		if wantID := "nsu=" + stationNS + ";s=" + st + "." + v; n.ID != wantID || n.NodeClass != "Variable" {
			t.Errorf("%s: id %s class %s, want %s Variable", p, n.ID, n.NodeClass, wantID)
		}
		if n.Path[0].NamespaceURI != NamespaceZero || n.Path[1].NamespaceURI != stationNS || n.Path[3].NamespaceURI != stationNS {
			t.Errorf("%s: namespaces %+v", p, n.Path)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("found %v\nwant %v", got, want)
	}
	if res.Truncated || res.Visited != len(want)+3 { // and the three station objects
		t.Errorf("visited %d truncated %v, want %d, false", res.Visited, res.Truncated, len(want)+3)
	}
}

// TestBrowseFilters checks the glob, class and data type filters and a
// start that does not exist.
func TestBrowseFilters(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{})
	tests := []struct {
		name string
		b    BrowseOptions
		want []string
	}{
		{"glob", BrowseOptions{Match: "Objects/FactoryLine/*/Status"}, []string{
			"Objects/FactoryLine/assembly/Status", "Objects/FactoryLine/packaging/Status", "Objects/FactoryLine/test/Status"}},
		{"double star", BrowseOptions{Match: "**/Pressure"}, []string{"Objects/FactoryLine/assembly/Pressure"}},
		{"data type", BrowseOptions{Start: "Objects/FactoryLine", DataTypes: []string{"Double"}}, []string{
			"Objects/FactoryLine/assembly/EnergyConsumption", "Objects/FactoryLine/assembly/Pressure",
			"Objects/FactoryLine/packaging/EnergyConsumption", "Objects/FactoryLine/test/EnergyConsumption"}},
		{"objects", BrowseOptions{Start: "Objects/FactoryLine", NodeClasses: []string{"Object"}}, []string{
			"Objects/FactoryLine/assembly", "Objects/FactoryLine/packaging", "Objects/FactoryLine/test"}},
		{"depth", BrowseOptions{Start: "Objects/Types", Depth: 1, Match: "**/Int*"}, []string{
			"Objects/Types/Int16", "Objects/Types/Int32", "Objects/Types/Int32Array", "Objects/Types/Int64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, n := range browse(t, sim.Endpoint, tt.b).Nodes {
				got = append(got, n.PathString())
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
	_, err := Browse(context.Background(), Options{Endpoint: sim.Endpoint}, BrowseOptions{Start: "Objects/NoSuchFolder"})
	if !errors.Is(err, ErrBrowseStart) || !strings.Contains(err.Error(), "Objects/NoSuchFolder") {
		t.Errorf("missing start: %v, want ErrBrowseStart naming the path", err)
	}
}

// TestBrowseLoadComplete browses 30,000 load nodes in one folder, far more
// than one Browse returns per node (continued with BrowseNext), and checks
// every one is found exactly once. The time it takes is
// BenchmarkBrowseLoad's, not this test's.
func TestBrowseLoadComplete(t *testing.T) {
	const n = 30000
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: n, Rate: 1})
	var progress []BrowseProgress
	res := browse(t, sim.Endpoint, BrowseOptions{Start: "Objects/Load", Progress: func(p BrowseProgress) { progress = append(progress, p) }})
	checkLoadNodes(t, res, n)
	if len(progress) == 0 || progress[len(progress)-1].Found != n {
		t.Errorf("progress %v, want a last report of %d found", progress, n)
	}
	// Cut short: the continuation points left are released, the rest is
	// marked missing.
	res = browse(t, sim.Endpoint, BrowseOptions{Start: "Objects/Load", MaxNodes: 4500, MaxReferencesPerNode: 1000})
	if !res.Truncated || len(res.Nodes) != 4500 {
		t.Errorf("MaxNodes 4500: %d nodes, truncated %v", len(res.Nodes), res.Truncated)
	}
}

func checkLoadNodes(t testing.TB, res *BrowseResult, n int) {
	t.Helper()
	seen := make([]int, n)
	for _, node := range res.Nodes {
		var i int
		if _, err := fmt.Sscanf(node.ID, "nsu=urn:factorybridge:load;s=load.%d", &i); err != nil || i < 0 || i >= n {
			t.Fatalf("unexpected node %s %s", node.PathString(), node.ID)
		}
		seen[i]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Errorf("load.%d found %d times", i, c)
		}
	}
	if res.Truncated {
		t.Error("truncated")
	}
}

// BenchmarkBrowseLoad measures browsing the simulator's 30,000 load nodes
// from the Objects folder (docs/benchmarks.md):
//
//	FACTORYSIM=.cache/bin/factorysim go test -run '^$' -bench BrowseLoad -benchtime 3x ./opcua/
func BenchmarkBrowseLoad(b *testing.B) {
	const n = 30000
	sim := testenv.StartSimulator(b, testenv.SimOptions{LoadNodes: n, Rate: 1})
	b.ResetTimer()
	for b.Loop() {
		res := browse(b, sim.Endpoint, BrowseOptions{Match: "Objects/Load/*"})
		if len(res.Nodes) != n {
			b.Fatalf("%d nodes", len(res.Nodes))
		}
	}
	b.ReportMetric(float64(n), "nodes/op")
}
