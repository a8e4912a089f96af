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
	"StopReason": "UInt32",
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
// BenchmarkBrowseLoad measures browsing the simulator's 30,000 load nodes
// (docs/benchmarks.md): the Load folder alone, and everything below
// Objects (which also browses below each of the 30,000 variables, and reads
// every variable's data type):
//
//	FACTORYSIM=.cache/bin/factorysim go test -run '^$' -bench BrowseLoad -benchtime 5x ./opcua/
func BenchmarkBrowseLoad(b *testing.B) {
	const n = 30000
	sim := testenv.StartSimulator(b, testenv.SimOptions{LoadNodes: n, Rate: 1})
	for _, bb := range []struct {
		name  string
		match string
	}{{"load-folder", "Objects/Load/*"}, {"all-objects", ""}} {
		b.Run(bb.name, func(b *testing.B) {
			found := 0
			for b.Loop() {
				res := browse(b, sim.Endpoint, BrowseOptions{Match: bb.match})
				if found = len(res.Nodes); found < n {
					b.Fatalf("%d nodes", found)
				}
			}
			b.ReportMetric(float64(found), "nodes/op")
		})
	}
}
