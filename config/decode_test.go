package config

import (
	"strings"
	"testing"
)

// TestDecodeTypes checks the type problems of the decoder, each with its
// full path and line.
func TestDecodeTypes(t *testing.T) {
	tests := []struct{ toml, want string }{
		{`bridge = "b"`, `c.toml:1: bridge: string "b" is not a table (valid: a [bridge] section)`},
		{`servers = "s"`, `c.toml:1: servers: string "s" is not an array of tables (valid: [[servers]] sections)`},
		{`servers = [1, 2]`, `c.toml:1: servers: an array is not an array of tables (valid: [[servers]] sections)`},
		{"[servers]\nname = \"a\"", `c.toml:1: servers: a table is not an array of tables (valid: [[servers]] sections)`},
		{`bridge.id = true`, `c.toml:1: bridge.id: boolean true is not a string (valid: a quoted string)`},
		{`bridge.id = 1979-05-27`, `c.toml:1: bridge.id: a datetime is not a string (valid: a quoted string)`},
		{`bridge.id = ["a"]`, `c.toml:1: bridge.id: an array is not a string (valid: a quoted string)`},
		{`buffer.max_bytes = 1.5`, `c.toml:1: buffer.max_bytes: float 1.5 is not an integer`},
		{`mqtt.qos = "1"`, `c.toml:1: mqtt.qos: string "1" is not an integer`},
		{`mqtt.insecure_skip_verify = "yes"`, `c.toml:1: mqtt.insecure_skip_verify: string "yes" is not a boolean (valid: true or false)`},
		{`buffer.commit_interval = { x = 1 }`, `c.toml:1: buffer.commit_interval: a table is not a duration (valid:`},
		{"\n\n[[servers]]\nqueue_size = 4294967296", `c.toml:4: servers[0].queue_size: 4294967296 is out of range (valid: 0–4294967295)`},
		{`mqtt.qos = "` + strings.Repeat("x", 50) + `"`, `mqtt.qos: string "` + strings.Repeat("x", 40) + `…" is not an integer`},
		{`[[lines]]` + "\n" + `stations = [{ name = "s", nodes = [{ name = "n", id = "i=1", deadband_value = "x" }] }]`,
			`c.toml:2: lines[0].stations[0].nodes[0].deadband_value: string "x" is not a number`},
		{`"my key" = 1`, `c.toml:1: "my key": unknown key (valid: bridge, buffer, mqtt, iothub, http, servers, lines, calendars, templates)`},
		{"[servers.x]\n[[servers]]", `syntax error`},
	}
	for _, tt := range tests {
		_, err := Parse("c.toml", []byte(tt.toml), noEnv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s:\ngot  %v\nwant %s", tt.toml, err, tt.want)
		}
	}
}

// TestDecodeFloatFromInteger checks that an integer is taken where a
// number is wanted.
func TestDecodeFloatFromInteger(t *testing.T) {
	text := strings.Replace(strings.Replace(secretBase, "%s", "", 1), `id = "i=1" }`, `id = "i=1", deadband = "absolute", deadband_value = 2 }`, 1)
	c, err := Parse("c.toml", []byte(text), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Lines[0].Stations[0].Nodes[0].DeadbandValue; got != 2 {
		t.Errorf("deadband_value = %v, want 2", got)
	}
}

// TestDecodeBoolean checks that booleans are taken where wanted.
func TestDecodeBoolean(t *testing.T) {
	text := strings.Replace(strings.Replace(secretBase, "%s", "", 1), "[[servers]]", "[[servers]]\ntrust_on_first_use = true", 1)
	c, err := Parse("c.toml", []byte(text), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Servers[0].TrustOnFirstUse {
		t.Error("trust_on_first_use = true decoded as false")
	}
}
