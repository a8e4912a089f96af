package publishednodes

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"factorybridge/config"
)

var testOptions = Options{BridgeID: "imported", Broker: "tcp://127.0.0.1:1883"}

// convertFile converts a fixture, writes its node map and loads it back
// with config.Parse, which validates it.
func convertFile(t *testing.T, file string) (*Result, *config.Config, string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Convert(file, data, testOptions)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	var out bytes.Buffer
	if err := config.WriteNodeMap(&out, res.Map); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("out.toml", out.Bytes(), func(string) (string, bool) { return "pw", true })
	if err != nil {
		t.Fatalf("the node map does not load: %v\n%s", err, out.String())
	}
	return res, cfg, out.String()
}

func issueStrings(is []Issue) []string {
	var s []string
	for _, i := range is {
		s = append(s, i.String())
	}
	return s
}

func nodeList(cfg *config.Config) []string {
	var s []string
	for _, r := range cfg.Nodes("") {
		n := r.Node
		s = append(s, strings.Join([]string{r.Server, r.Name, n.ID + n.Path, n.PublishingInterval.String(), n.SamplingInterval.String()}, " "))
	}
	return s
}

func TestConvertBasic(t *testing.T) {
	res, cfg, out := convertFile(t, "testdata/basic.json")
	want := []string{
		"plc-press line1/plc-press/Current time i=2258 5s 2s",
		"plc-press line1/plc-press/Temperature nsu=http://example.com/press/;s=Press1.Temperature 1s 500ms",
		"plc-press line1/plc-press/Press1.Count nsu=http://example.com/press/;s=Press1.Count 1s 500ms",
		"plc-press line1/plc-press/Press1.Mode ns=2;s=Press1.Mode 1s 500ms",
		"plc-press line1/plc-press/Press1.Speed nsu=http://example.com/press/;s=Press1.Speed 1s 500ms",
	}
	if got := nodeList(cfg); !reflect.DeepEqual(got, want) {
		t.Errorf("nodes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := cfg.Servers[0]; s.SecurityPolicy != "auto" || s.SecurityMode != "SignAndEncrypt" || s.Endpoint != "opc.tcp://plc-press:4840" {
		t.Errorf("server %+v: want UseSecurity as SignAndEncrypt with the strongest policy", s)
	}
	wantIssues := []string{
		`testdata/basic.json:7: [0].UseSecurity: signed or encrypted (NotNone) written as security_mode = "SignAndEncrypt"; set "Sign" for a server that only signs`,
		`testdata/basic.json:19: [0].OpcNodes[1].HeartbeatInterval: 3600 not mapped: heartbeats are not mapped yet: factorybridge sends a value when it changes`,
		`testdata/basic.json:20: [0].OpcNodes[1].SkipFirst: true not mapped: skip-first is not mapped yet: factorybridge sends the first value the server reports`,
		`testdata/basic.json:29: [1].UseSecurity: signed or encrypted (NotNone) written as security_mode = "SignAndEncrypt"; set "Sign" for a server that only signs`,
	}
	if got := issueStrings(res.Issues); !reflect.DeepEqual(got, wantIssues) {
		t.Errorf("issues\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantIssues, "\n"))
	}
	for _, s := range []string{
		"  # HeartbeatInterval: 3600 not mapped: heartbeats are not mapped yet",
		"  # SkipFirst: true not mapped: skip-first",
		"  # Namespace index: the server may renumber it",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	if res.Nodes != 5 || res.Skipped != 0 {
		t.Errorf("%d nodes, %d skipped", res.Nodes, res.Skipped)
	}
}

func TestConvertWriters(t *testing.T) {
	res, cfg, out := convertFile(t, "testdata/writers.json")
	want := []string{
		"10.1.2.3 Line2/Filler/State nsu=http://example.com/filler/;s=Filler.State 2s 250ms",
		"10.1.2.3 Line2/Filler/Level Objects/nsu=http://example.com/filler/;Filler/Level 2s 100ms",
		"10.1.2.3 Line2/Filler/Bottles_Filled Objects/nsu=http://example.com/filler/;Filler/Bottles Filled 2s 250ms",
		"10.1.2.3 Line2/Filler/Valve nsu=http://example.com/filler/;s=Filler.Valve#1 2s 250ms",
		"10.1.2.3 Line2/Filler/Filler.Speed nsu=http://example.com/filler/;s=Filler.Speed 2s 250ms",
		"10.1.2.3 Line2/Capper/State nsu=http://example.com/filler/;s=Capper.State 1s 500ms",
		"10.1.2.4 Line2/Capper_10.1.2.4/Labels nsu=http://example.com/labeler/;i=42 1s 500ms",
	}
	if got := nodeList(cfg); !reflect.DeepEqual(got, want) {
		t.Errorf("nodes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	nodes := cfg.Lines[0].Stations[0].Nodes
	if n := nodes[0]; n.Trigger != "status_value_timestamp" || n.QueueSize != 5 {
		t.Errorf("State %+v", n)
	}
	if n := nodes[1]; n.Deadband != "percent" || n.DeadbandValue != 2.5 {
		t.Errorf("Level %+v", n)
	}
	if n := nodes[2]; n.Deadband != "absolute" || n.DeadbandValue != 0 {
		t.Errorf("Bottles %+v: a negative absolute deadband is 0", n)
	}
	s1, s2 := cfg.Servers[0], cfg.Servers[1]
	if s1.SecurityPolicy != "Basic256Sha256" || s1.SecurityMode != "SignAndEncrypt" || s1.Auth != "username" || s1.Username != "publisher" || s1.PasswordEnv != "OPCUA_PASSWORD_10_1_2_3" {
		t.Errorf("server 1 %+v", s1)
	}
	if s2.SecurityMode != "auto" || s2.Auth != "certificate" || s2.Endpoint != "opc.tcp://10.1.2.4:4840" {
		t.Errorf("server 2 %+v", s2)
	}
	if strings.Contains(out, "s3cret-from-the-json") {
		t.Error("the password from the JSON is in the node map")
	}
	if res.Nodes != 7 || res.Skipped != 6 {
		t.Errorf("%d nodes, %d skipped; want 7 and 6", res.Nodes, res.Skipped)
	}
	checkWriterIssues(t, res.Issues)
}

// checkWriterIssues checks that every field writers.json has that is not
// mapped is reported at its line.
func checkWriterIssues(t *testing.T, issues []Issue) {
	t.Helper()
	want := map[string]string{ // path → line and a part of the message
		"[0].Version":                               "3: 7 not mapped: informational only",
		"[0].OpcAuthenticationPassword":             "9: not copied into the node map",
		"[0].MessagingMode":                         "14: \"PubSub\" not mapped: an OPC Publisher message setting",
		"[0].OpcNodes[1].HeartbeatIntervalTimespan": "28: \"00:01:00\" not mapped: heartbeats",
		"[0].OpcNodes[3].IndexRange":                "40: \"0:3\" not mapped: index ranges are not supported",
		"[0].OpcNodes[4].EventFilter":               "43: events are not supported",
		"[0].OpcNodes[5].AttributeId":               "44: \"DisplayName\": only the Value attribute",
		"[0].OpcNodes[6].BrowsePath[1]":             "45: \"3:Filler\" not mapped: a namespace index cannot be mapped",
		"[0].OpcNodes[7].Id":                        "46: \"svr=1;nsu=http://example.com/filler/;s=Filler.Remote\" not mapped: it names another server",
		"[0].OpcNodes[8].UseCyclicRead":             "47: true not mapped: factorybridge subscribes",
		"[0].OpcNodes[8].Colour":                    "47: \"blue\" not mapped: not a field OPC Publisher documents",
		"[2].EndpointUrl":                           "63: no port in EndpointUrl: OPC UA's default 4840 written",
		"[2].EndpointSecurityMode":                  "64: Best written as security_mode = \"auto\"",
		"[2].OpcAuthenticationMode":                 "65: OPC Publisher takes the user certificate (subject \"CN=publisher\")",
		"[3]":                                       "73: EndpointUrl is required: entry skipped",
		"[4].EndpointUrl":                           "74: \"https://10.1.2.5/opcua\" is not an opc.tcp:// endpoint",
	}
	got := map[string]string{}
	for _, is := range issues {
		got[is.Path] = strings.TrimPrefix(is.String(), "testdata/writers.json:")
	}
	for path, w := range want {
		line, msg, _ := strings.Cut(w, ": ")
		if !strings.HasPrefix(got[path], line+": "+path+": "+msg) {
			t.Errorf("issue %q, want line %s, %s: %s…", got[path], line, path, msg)
		}
	}
	if len(issues) != len(want) {
		t.Errorf("%d issues, want %d:\n%s", len(issues), len(want), strings.Join(issueStrings(issues), "\n"))
	}
}

func TestConvertRejects(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"syntax", "[\n  { \"EndpointUrl\": \"opc.tcp://a:1\",\n    \"OpcNodes\": [ { \"Id\": \"i=1\" } ]\n  \n", "f.json:5: JSON"},
		{"missing comma", "[\n {\"EndpointUrl\": \"opc.tcp://a:1\"}\n {\"x\": 1}\n]", "f.json:3: JSON syntax error"},
		{"object", "{ \"EndpointUrl\": \"opc.tcp://a:1\" }", "f.json:1: the file is a JSON object, not an array of entries"},
		{"no nodes", `[{ "EndpointUrl": "opc.tcp://a:1", "OpcNodes": [ { "Id": "svr=2;i=1" } ] }]`, "f.json: no node could be mapped (1 skipped"},
		{"empty", `[]`, "f.json: no node could be mapped (0 skipped"},
		{"two values", "[]\n[]", "f.json:2: more than one JSON value"},
	}
	for _, tt := range tests {
		_, err := Convert("f.json", []byte(tt.data), testOptions)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestParseTimespan(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"00:00:02", 2 * time.Second},
		{"00:00:00.100", 100 * time.Millisecond},
		{"00:01:30.5", 90500 * time.Millisecond},
		{"1.02:03:04", 26*time.Hour + 3*time.Minute + 4*time.Second},
	}
	for _, tt := range tests {
		if got, err := parseTimespan(tt.in); err != nil || got != tt.want {
			t.Errorf("parseTimespan(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"2s", "00:60:00", "1:2", "x.00:00:01"} {
		if _, err := parseTimespan(bad); err == nil {
			t.Errorf("parseTimespan(%q) accepted", bad)
		}
	}
}

func TestStripComments(t *testing.T) {
	in := "[ // a comment\n {\"a\": \"http://x/y\", /* b\n c */ \"b\": \"/* not */\"} ]"
	v, err := parseJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	e := v.elems[0]
	if e.get("A").str != "http://x/y" || e.get("b").str != "/* not */" {
		t.Errorf("members %+v", e.members)
	}
	if got := newLineIndex([]byte(in)).line(e.get("b").off); got != 3 {
		t.Errorf("b on line %d, want 3", got)
	}
}
