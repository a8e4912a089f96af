package config

import (
	"reflect"
	"testing"
	"time"

	"factorybridge/opcua"
)

const opcuaOptionsTOML = `
[bridge]
id = "b1"
site = "munich"

[mqtt]
broker = "tcp://127.0.0.1:1883"

[[servers]]
name = "plc1"
endpoint = "opc.tcp://127.0.0.1:4840"
security_policy = "Basic256Sha256"
security_mode = "SignAndEncrypt"
auth = "username"
username = "bridge"
password_env = "PLC1_PASSWORD"
certificate = "/etc/fb/opcua.der"
key = "/etc/fb/opcua.key"
publishing_interval = "200ms"
sampling_interval = "0s"
queue_size = 50
request_timeout = "3s"
timestamps = "server"
clock_correction = "off"
clock_skew_threshold = "10s"
clock_check_interval = "1m"

[[servers]]
name = "plc2"
endpoint = "opc.tcp://127.0.0.1:4841"
auth = "certificate"
user_certificate = "/etc/fb/user.der"
user_key = "/etc/fb/user.key"

[[lines]]
name = "line1"

[[lines.stations]]
name = "press"
server = "plc1"
nodes = [
  { name = "temp", id = "ns=2;s=Press.Temp" },
  { name = "count", id = "nsu=urn:press;s=Count", publishing_interval = "2s", sampling_interval = "100ms", queue_size = 5, trigger = "status_value_timestamp", deadband = "absolute", deadband_value = 0.5 },
]

[[lines.stations]]
name = "oven"
server = "plc2"
nodes = [{ name = "heat", id = "ns=3;i=7" }]
`

// TestOPCUAOptions checks the translation of each server and its nodes,
// with the server's defaults filled in and per-node overrides kept; an
// explicit sampling_interval = "0s" stays 0 (as fast as the server can).
func TestOPCUAOptions(t *testing.T) {
	env := func(name string) (string, bool) { return "plc1-secret", name == "PLC1_PASSWORD" }
	c, err := Parse("c.toml", []byte(opcuaOptionsTOML), env)
	if err != nil {
		t.Fatal(err)
	}
	pressNode := func(name, id string) opcua.Node {
		return opcua.Node{
			Name: "munich/line1/press/" + name, Server: "plc1", Line: "line1", Station: "press", ID: id,
			PublishingInterval: 200 * time.Millisecond, SamplingInterval: 0, QueueSize: 50, Trigger: "status_value",
			Mode: opcua.ModeSubscribe,
		}
	}
	count := pressNode("count", "nsu=urn:press;s=Count")
	count.PublishingInterval, count.SamplingInterval, count.QueueSize = 2*time.Second, 100*time.Millisecond, 5
	count.Trigger, count.Deadband, count.DeadbandValue = "status_value_timestamp", "absolute", 0.5
	defaultBackfill := opcua.BackfillOptions{MaxValues: opcua.DefaultBackfillMaxValues,
		MaxAge: opcua.DefaultBackfillMaxAge, Timeout: opcua.DefaultBackfillTimeout}
	tests := []struct {
		server string
		want   opcua.Options
	}{
		{"plc1", opcua.Options{
			Name: "plc1", Endpoint: "opc.tcp://127.0.0.1:4840",
			SecurityPolicy: "Basic256Sha256", SecurityMode: "SignAndEncrypt",
			Auth: "username", Username: "bridge", Password: "plc1-secret",
			CertificateFile: "/etc/fb/opcua.der", KeyFile: "/etc/fb/opcua.key",
			RequestTimeout: 3 * time.Second,
			Nodes:          []opcua.Node{pressNode("temp", "ns=2;s=Press.Temp"), count},
			Backfill:       defaultBackfill,
			Clock: opcua.ClockOptions{Timestamps: opcua.TimestampsServer, Correction: opcua.CorrectionOff,
				SkewThreshold: 10 * time.Second, CheckInterval: time.Minute},
		}},
		{"plc2", opcua.Options{
			Name: "plc2", Endpoint: "opc.tcp://127.0.0.1:4841",
			SecurityPolicy: DefaultSecurityPolicy, SecurityMode: DefaultSecurityMode,
			Auth: "certificate", UserCertificate: "/etc/fb/user.der", UserKey: "/etc/fb/user.key",
			RequestTimeout: opcua.DefaultRequestTimeout,
			Nodes: []opcua.Node{{
				Name: "munich/line1/oven/heat", Server: "plc2", Line: "line1", Station: "oven", ID: "ns=3;i=7",
				PublishingInterval: opcua.DefaultPublishingInterval, SamplingInterval: DefaultSamplingInterval,
				QueueSize: opcua.DefaultQueueSize, Trigger: opcua.DefaultTrigger, Mode: opcua.ModeSubscribe,
			}},
			Backfill: defaultBackfill,
			Clock: opcua.ClockOptions{Timestamps: opcua.TimestampsSource, Correction: opcua.CorrectionAuto,
				SkewThreshold: opcua.DefaultSkewThreshold, CheckInterval: opcua.DefaultClockCheck},
		}},
	}
	for _, tt := range tests {
		got, ok := c.OPCUAOptions(tt.server)
		if !ok {
			t.Errorf("%s: not found", tt.server)
			continue
		}
		if got.Password.Value() != tt.want.Password.Value() {
			t.Errorf("%s: password %q, want %q", tt.server, got.Password.Value(), tt.want.Password.Value())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", tt.server, got, tt.want)
		}
	}
	if _, ok := c.OPCUAOptions("plc3"); ok {
		t.Error("plc3: found, want not")
	}
}
