package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestTomlString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "tab\tnew\nline", "ctl\x01\x7f", "Grüße 🏭 工場", `ns=3;s="DB1"."Motor"`} {
		var v struct{ S string }
		if _, err := toml.Decode("S = "+tomlString(s), &v); err != nil || v.S != s {
			t.Errorf("tomlString(%q) = %s: decodes to %q, %v", s, tomlString(s), v.S, err)
		}
	}
	var v struct{ S string }
	if _, err := toml.Decode("S = "+tomlString("bad\xffutf8"), &v); err != nil || v.S != "bad\uFFFDutf8" {
		t.Errorf("invalid UTF-8: %q, %v", v.S, err)
	}
}

// TestWriteNodeMap writes a complete node map and loads it back.
func TestWriteNodeMap(t *testing.T) {
	m := NodeMap{
		Header:   []string{"made by a test", "two lines"},
		BridgeID: "b1", Broker: "tcp://127.0.0.1:1883",
		Servers: []MapServer{{Server: Server{Name: "plc", Endpoint: "opc.tcp://127.0.0.1:4840",
			SecurityPolicy: "auto", SecurityMode: "auto", SamplingInterval: Duration(250e6)}, Comments: []string{"from the endpoint"}}},
		Lines: []MapLine{{Name: "line1", Stations: []MapStation{{
			Name: "assembly", Server: "plc", Comments: []string{"Objects/FactoryLine/assembly"},
			Nodes: []MapNode{
				{Node: Node{Name: "Status", ID: "nsu=http://opcfoundation.org/UA/Station/;s=assembly.Status"}, Note: "Int32"},
				{Node: Node{Name: `Quote"d`, Path: "Objects/FactoryLine/assembly/Pressure", QueueSize: 5,
					Deadband: "absolute", DeadbandValue: 0.5, PublishingInterval: Duration(2e9)},
					Comments: []string{"not mapped: HeartbeatInterval 60"}},
			},
		}}}},
		Footer: []string{"the end"},
	}
	var buf bytes.Buffer
	if err := WriteNodeMap(&buf, m); err != nil {
		t.Fatal(err)
	}
	c, err := Parse("map.toml", buf.Bytes(), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	got := c.Lines[0].Stations[0].Nodes
	want := []Node{m.Lines[0].Stations[0].Nodes[0].Node, m.Lines[0].Stations[0].Nodes[1].Node}
	if !reflect.DeepEqual(got, want) || c.Servers[0].SamplingInterval != Duration(250e6) || c.Servers[0].SecurityPolicy != "auto" {
		t.Errorf("loaded %+v, %+v\nwant %+v\n%s", got, c.Servers[0], want, buf.String())
	}
	for _, s := range []string{"# made by a test\n# two lines\n", "# not mapped: HeartbeatInterval 60\n", "},  # Int32\n", "# the end\n"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, buf.String())
		}
	}
}

// TestWriteNodeMapFragment writes lines only, to append to a file that has
// the rest.
func TestWriteNodeMapFragment(t *testing.T) {
	var buf bytes.Buffer
	m := NodeMap{Lines: []MapLine{{Name: "line2", Stations: []MapStation{{Name: "s", Server: "plc",
		Nodes: []MapNode{{Node: Node{Name: "n", ID: "i=2258"}}}}}}}}
	if err := WriteNodeMap(&buf, m); err != nil {
		t.Fatal(err)
	}
	base := "bridge.id = \"b\"\nmqtt.broker = \"tcp://127.0.0.1:1883\"\n[[servers]]\nname = \"plc\"\nendpoint = \"opc.tcp://127.0.0.1:4840\"\n"
	c, err := Parse("f.toml", []byte(base+buf.String()), nil)
	if err != nil || len(c.Nodes("plc")) != 1 {
		t.Fatalf("%v\n%s", err, buf.String())
	}
}
