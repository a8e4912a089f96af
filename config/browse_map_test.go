package config

import (
	"reflect"
	"testing"

	"factorybridge/opcua"
)

func browsed(class, dataType string, path ...string) opcua.BrowsedNode {
	n := opcua.BrowsedNode{NodeClass: class, DataType: dataType, ID: "ns=1;s=" + path[len(path)-1]}
	for _, p := range path {
		n.Path = append(n.Path, opcua.PathSegment{Name: p, NamespaceURI: "urn:x"})
	}
	return n
}

// TestBrowseLine checks how browsed nodes become stations and nodes:
// stations by parent, told apart by their ancestors' names when the parents'
// names are the same; node names made safe and unique.
func TestBrowseLine(t *testing.T) {
	nodes := []opcua.BrowsedNode{
		browsed("Variable", "Double", "Objects", "Line1", "Press", "Motor", "Speed"),
		browsed("Variable", "Double", "Objects", "Line2", "Press", "Motor", "Speed"),
		browsed("Variable", "Int32", "Objects", "Line1", "Oven", "State"),
		browsed("Variable", "Int32", "Objects", "Line1", "Oven", "a/b+c#d"),
		browsed("Object", "", "Objects", "Line1", "Oven"),
		browsed("Variable", "Int32", "Objects", "Line1", "Oven", "a_b_c_d"),
	}
	line, others := BrowseLine(nodes, BrowseMapOptions{Line: "l", Server: "plc"})
	var stations []string
	for _, st := range line.Stations {
		stations = append(stations, st.Name)
		if st.Server != "plc" {
			t.Errorf("station %s server %q", st.Name, st.Server)
		}
	}
	if want := []string{"Line1.Press.Motor", "Line2.Press.Motor", "Oven"}; !reflect.DeepEqual(stations, want) {
		t.Errorf("stations %v, want %v", stations, want)
	}
	oven := line.Stations[2].Nodes
	var got []string
	for _, n := range oven {
		got = append(got, n.Name+" "+n.Note)
	}
	want := []string{"State Int32", `a_b_c_d Int32 (browse name "a/b+c#d")`, `a_b_c_d_2 Int32 (browse name "a_b_c_d")`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("oven nodes %q, want %q", got, want)
	}
	if len(others) != 1 || others[0] != "Object Objects/Line1/Oven  ns=1;s=Oven" {
		t.Errorf("others %q", others)
	}
	paths, _ := BrowseLine(nodes[2:3], BrowseMapOptions{Line: "l", Paths: true})
	if n := paths.Stations[0].Nodes[0]; n.ID != "" || n.Path != "nsu=urn:x;Objects/nsu=urn:x;Line1/Oven/State" {
		t.Errorf("with Paths: %+v", n)
	}
}
