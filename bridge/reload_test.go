package bridge

import (
	"context"
	"errors"
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

func TestApplyRefusesWhatNeedsARestart(t *testing.T) {
	b := &Bridge{cfg: parse(t, baseConfig)}
	if err := b.Apply(context.Background(), parse(t, baseConfig)); err != nil {
		t.Fatalf("Apply(same) = %v, want nil", err)
	}
	changed := parse(t, strings.Replace(baseConfig, "127.0.0.1:1883", "127.0.0.1:1884", 1))
	err := b.Apply(context.Background(), changed)
	if !errors.Is(err, ErrRestartRequired) || !strings.Contains(err.Error(), "mqtt") {
		t.Fatalf("Apply(changed broker) = %v, want ErrRestartRequired naming mqtt", err)
	}
	if b.cfg.MQTT.Broker != "tcp://127.0.0.1:1883" {
		t.Errorf("running broker = %s after a refused Apply", b.cfg.MQTT.Broker)
	}
}
