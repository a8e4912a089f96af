package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestConnectedFactoryTemplate checks that configs/connected-factory.toml,
// written with a template, loads to the same nodes and OEE settings as the
// same line written out station by station (its version before templates).
func TestConnectedFactoryTemplate(t *testing.T) {
	setExampleEnv(t)
	withTemplate, err := Load("../configs/connected-factory.toml")
	if err != nil {
		t.Fatal(err)
	}
	explicit, err := Load("testdata/templates/connected-factory-explicit.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := withTemplate.Nodes(""), explicit.Nodes(""); !reflect.DeepEqual(got, want) {
		t.Errorf("nodes differ:\n%+v\n%+v", got, want)
	}
	for i, st := range withTemplate.Lines[0].Stations {
		want := explicit.Lines[0].Stations[i]
		if st.Template != "cf-station" {
			t.Errorf("station %s: template %q", st.Name, st.Template)
		}
		st.Template = ""
		if !reflect.DeepEqual(st, want) {
			t.Errorf("station %d differs:\n%+v %+v\n%+v %+v", i, st, *st.OEE, want, *want.OEE)
		}
	}
	if !reflect.DeepEqual(withTemplate.Lines[0].OEE, explicit.Lines[0].OEE) {
		t.Errorf("line OEE differs: %+v %+v", *withTemplate.Lines[0].OEE, *explicit.Lines[0].OEE)
	}
}

const templateBase = `bridge.id = "t"
mqtt.broker = "tcp://127.0.0.1:1883"

[[servers]]
name = "plc"
endpoint = "opc.tcp://127.0.0.1:4840"

[[templates]]
name = "press"
nodes = [
  { name = "State", id = "nsu=urn:press;s={station}.{unit}.State" },
  { name = "Good", path = "Objects/{line}/{station}/Good" },
  { name = "Temp", id = "nsu=urn:press;s={station}.Temp", sampling_interval = "1s" },
]
[templates.oee]
ideal_cycle_time = "4s"
preset = "packml"
roles = { state = "State", good_count = "Good" }

[[lines]]
name = "L1"
`

// TestTemplateExpansion checks placeholders, vars, overriding, adding and
// omitting nodes, and OEE keys merged with the station's own.
func TestTemplateExpansion(t *testing.T) {
	text := templateBase + `
[[lines.stations]]
name = "p1"
template = "press"
vars = { unit = "U1" }

[[lines.stations]]
name = "p2"
template = "press"
vars = { unit = "U2" }
omit = ["Temp"]
nodes = [
  { name = "Good", id = "nsu=urn:press;s=p2.Counter" },
  { name = "State", queue_size = 50 },
  { name = "Speed", id = "nsu=urn:press;s=p2.Speed" },
]
[lines.stations.oee]
ideal_cycle_time = "5s"
roles = { reject_count = "Speed" }
`
	c, err := Parse("t.toml", []byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := c.Lines[0].Stations[0], c.Lines[0].Stations[1]
	want1 := []Node{
		{Name: "State", ID: "nsu=urn:press;s=p1.U1.State"},
		{Name: "Good", Path: "Objects/L1/p1/Good"},
		{Name: "Temp", ID: "nsu=urn:press;s=p1.Temp", SamplingInterval: Duration(1e9)},
	}
	if !reflect.DeepEqual(p1.Nodes, want1) {
		t.Errorf("p1 nodes %+v\nwant %+v", p1.Nodes, want1)
	}
	want2 := []Node{
		{Name: "State", ID: "nsu=urn:press;s=p2.U2.State", QueueSize: 50},
		{Name: "Good", ID: "nsu=urn:press;s=p2.Counter"},
		{Name: "Speed", ID: "nsu=urn:press;s=p2.Speed"},
	}
	if !reflect.DeepEqual(p2.Nodes, want2) {
		t.Errorf("p2 nodes %+v\nwant %+v", p2.Nodes, want2)
	}
	if o := p1.OEE; o.IdealCycleTime.D().Seconds() != 4 || o.Roles.State != "State" || o.Preset != "packml" {
		t.Errorf("p1 OEE %+v", *o)
	}
	if o := p2.OEE; o.IdealCycleTime.D().Seconds() != 5 || o.Roles.State != "State" || o.Roles.GoodCount != "Good" || o.Roles.RejectCount != "Speed" {
		t.Errorf("p2 OEE %+v: want the template's roles and preset with the station's ideal cycle time and reject_count", *o)
	}
	if p2.Vars["unit"] != "U2" || !reflect.DeepEqual(p2.Omit, []string{"Temp"}) {
		t.Errorf("p2 vars %v omit %v", p2.Vars, p2.Omit)
	}
}

// TestTemplateErrors checks that a problem in what a station got from a
// template is reported at the template's line, naming the station and its
// line, and once for all the stations it shows in.
func TestTemplateErrors(t *testing.T) {
	tests := []struct {
		name, stations string
		want           []string
	}{
		{"unknown placeholder", `
[[lines.stations]]
name = "p1"
template = "press"
`, []string{`t.toml:11: templates[0].nodes[0].id: {unit} is not a placeholder of this station (valid: {line}, {station}; more with vars = { unit = "…" } in the station; {{ for a literal {) (in station "p1" at line 23, from template "press")`}},
		{"bad value in the template, two stations", `
[[lines.stations]]
name = "p1"
template = "press"
vars = { unit = "U1" }
[[lines.stations]]
name = "p2"
template = "press"
vars = { unit = "U2" }
`, nil},
		{"template not found", `
[[lines.stations]]
name = "p1"
template = "pres"
`, []string{`t.toml:20: lines: no nodes configured (valid: at least one [[lines]] with [[lines.stations]] and [[lines.stations.nodes]])`, `t.toml:25: lines[0].stations[0].template: "pres" is not a template (valid: press)`}},
		{"omit unknown", `
[[lines.stations]]
name = "p1"
template = "press"
vars = { unit = "U1" }
omit = ["Temperature"]
`, []string{`t.toml:27: lines[0].stations[0].omit[0]: "Temperature" is not a node of template "press" (valid: State, Good, Temp)`}},
		{"vars station", `
[[lines.stations]]
name = "p1"
template = "press"
vars = { unit = "U1", station = "x" }
`, []string{`t.toml:26: lines[0].stations[0].vars.station: {station} is always the station's name (valid: vars of other names)`}},
		{"vars without template", `
[[lines.stations]]
name = "p1"
vars = { unit = "U1" }
nodes = [{ name = "x", id = "i=1" }]
`, []string{`t.toml:25: lines[0].stations[0].vars: set, but the station has no template (valid: template = a [[templates]] name)`}},
		{"station's own node", `
[[lines.stations]]
name = "p1"
template = "press"
vars = { unit = "U1" }
nodes = [{ name = "Extra", id = "ns=1;x=2" }]
`, []string{`t.toml:27: lines[0].stations[0].nodes[0].id: "ns=1;x=2" is not a node id: the identifier must start with i=, s=, g= or b= (valid: ` + nodeIDForms + `)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := templateBase + tt.stations
			if tt.want == nil { // a bad key value in the template itself
				text = strings.Replace(text, `sampling_interval = "1s"`, `sampling_interval = "fast"`, 1)
				text = strings.Replace(text, `preset = "packml"`, `preset = "iso"`, 1)
				tt.want = []string{
					`t.toml:13: templates[0].nodes[2].sampling_interval: string "fast" is not a duration ` + validDuration + ` (in stations "p1" at line 23, "p2" at line 27, from template "press")`,
					`t.toml:17: templates[0].oee.preset: "iso" is not a valid preset (valid: connected-factory, packml, machinery) (in stations "p1" at line 23, "p2" at line 27, from template "press")`,
				}
			}
			_, err := Parse("t.toml", []byte(text), nil)
			var got []string
			if errs, ok := err.(*Errors); ok {
				for _, p := range *errs {
					got = append(got, p.String())
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestTemplateDuplicateReading reports a template node whose filled name
// repeats another's at the template's line, naming the station.
func TestTemplateDuplicateReading(t *testing.T) {
	text := strings.Replace(templateBase, `{ name = "Temp"`, `{ name = "{unit}"`, 1) + `
[[lines.stations]]
name = "p1"
template = "press"
vars = { unit = "State" }
`
	_, err := Parse("t.toml", []byte(text), nil)
	want := `t.toml:13: templates[0].nodes[2].name: duplicate reading name "L1/p1/State" (first at line 11) (in station "p1" at line 23, from template "press")`
	if err == nil || err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", err, want)
	}
}
