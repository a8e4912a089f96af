package bridge

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"factorybridge/config"
)

const baseConfig = `
bridge.id = "b1"
bridge.data_dir = "/tmp/fb"
mqtt.broker = "tcp://127.0.0.1:1883"

[[servers]]
name = "plc"
endpoint = "opc.tcp://127.0.0.1:4840"

[[lines]]
name = "line1"

[[lines.stations]]
name = "assembly"
nodes = [{ name = "Status", id = "ns=1;s=Status" }]
`

func parse(t *testing.T, text string) *config.Config {
	t.Helper()
	c, err := config.Parse("test.toml", []byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChanges(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
		want []string
	}{
		{"same file", func(s string) string { return s }, nil},
		{"comment and key order", func(s string) string {
			return "# a comment\n" + strings.Replace(s, "bridge.id = \"b1\"\nbridge.data_dir = \"/tmp/fb\"",
				"bridge.data_dir = \"/tmp/fb\"\nbridge.id = \"b1\"", 1)
		}, nil},
		{"node added", func(s string) string {
			return strings.Replace(s, `{ name = "Status", id = "ns=1;s=Status" }`,
				`{ name = "Status", id = "ns=1;s=Status" }, { name = "Count", id = "ns=1;s=Count" }`, 1)
		}, []string{"lines"}},
		{"broker and server", func(s string) string {
			s = strings.Replace(s, "127.0.0.1:1883", "127.0.0.1:1884", 1)
			return strings.Replace(s, "127.0.0.1:4840", "127.0.0.1:4841", 1)
		}, []string{"mqtt", "servers"}},
		{"buffer default made explicit", func(s string) string {
			return strings.Replace(s, "mqtt.broker", "buffer.max_bytes = 1073741824\nmqtt.broker", 1)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Changes(parse(t, baseConfig), parse(t, tt.edit(baseConfig)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Changes = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestApplyRefusesWhatNeedsARestart: a change the bridge cannot make while
// running is refused whole, naming the section, and nothing is applied.
func TestApplyRefusesWhatNeedsARestart(t *testing.T) {
	tests := []struct{ name, old, new, want string }{
		{"bridge id", `bridge.id = "b1"`, `bridge.id = "b2"`, "bridge"},
		{"buffer", "mqtt.broker", "buffer.max_bytes = 1048576\nmqtt.broker", "buffer"},
		{"http", "mqtt.broker", "http.listen = \"127.0.0.1:9999\"\nmqtt.broker", "http"},
		{"mqtt to iothub", `mqtt.broker = "tcp://127.0.0.1:1883"`,
			"[iothub]\nedge = \"on\"", "iothub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Bridge{cfg: parse(t, baseConfig)}
			b.lines.Store(newLineStats(b.cfg))
			if changed, err := b.Apply(parse(t, baseConfig)); err != nil || changed != nil {
				t.Fatalf("Apply(same) = %q, %v; want nothing changed", changed, err)
			}
			_, err := b.Apply(parse(t, strings.Replace(baseConfig, tt.old, tt.new, 1)))
			if !errors.Is(err, ErrRestartRequired) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Apply = %v, want ErrRestartRequired naming %s", err, tt.want)
			}
			if !reflect.DeepEqual(b.cfg, parse(t, baseConfig)) {
				t.Errorf("the running configuration changed after a refused Apply")
			}
		})
	}
}
