package config

import (
	"strings"
	"testing"
)

func TestHTTPAndStatusTopic(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(c *Config)
		problem  string // "" when the config must stay valid
		listen   string // HTTPListen of a valid config
		presence string // StatusTopic of a valid config
	}{
		{"defaults", func(c *Config) {}, "", "127.0.0.1:9880", "factorybridge/b1/status"},
		{"all interfaces", func(c *Config) { c.HTTP.Listen = "0.0.0.0:9880" }, "", "0.0.0.0:9880", "factorybridge/b1/status"},
		{"free port", func(c *Config) { c.HTTP.Listen = "127.0.0.1:0" }, "", "127.0.0.1:0", "factorybridge/b1/status"},
		{"both off", func(c *Config) { c.HTTP.Listen, c.MQTT.StatusTopic = Off, Off }, "", "", ""},
		{"own topic", func(c *Config) { c.MQTT.StatusTopic = "plant/{bridge}/alive" }, "", "127.0.0.1:9880", "plant/b1/alive"},
		{"no port", func(c *Config) { c.HTTP.Listen = "127.0.0.1" }, `http.listen: "127.0.0.1" is not an address`, "", ""},
		{"port range", func(c *Config) { c.HTTP.Listen = ":70000" }, `http.listen: ":70000" is not an address`, "", ""},
		{"wildcard", func(c *Config) { c.MQTT.StatusTopic = "fb/+/status" }, "mqtt.status_topic: \"fb/+/status\" contains an MQTT wildcard", "", ""},
		{"line placeholder", func(c *Config) { c.MQTT.StatusTopic = "fb/{line}/status" }, "placeholder other than {bridge}", "", ""},
		{"readings topic", func(c *Config) { c.MQTT.Topic, c.MQTT.StatusTopic = "fb/{bridge}", "fb/{bridge}" }, "is also a topic of readings", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			err := c.Validate()
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("Validate = %v, want a problem containing %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate = %v", err)
			}
			if got := c.HTTPListen(); got != tt.listen {
				t.Errorf("HTTPListen = %q, want %q", got, tt.listen)
			}
			if got := c.StatusTopic(); got != tt.presence {
				t.Errorf("StatusTopic = %q, want %q", got, tt.presence)
			}
		})
	}
}

// TestStatusTopicOffWithIoTHub: the hub has no retained messages and no
// last will, so there is no presence topic to publish.
func TestStatusTopicOffWithIoTHub(t *testing.T) {
	c := validConfig()
	c.IoTHub = &IoTHub{}
	if got := c.StatusTopic(); got != "" {
		t.Errorf("StatusTopic with [iothub] = %q, want none", got)
	}
}
