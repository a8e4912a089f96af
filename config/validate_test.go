package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// validConfig returns a small valid configuration with defaults applied.
func validConfig() *Config {
	c := &Config{
		Bridge:  Bridge{ID: "b1"},
		MQTT:    MQTT{Broker: "tcp://127.0.0.1:1883"},
		Servers: []Server{{Name: "plc", Endpoint: "opc.tcp://127.0.0.1:4840"}},
		Lines: []Line{{Name: "line1", Stations: []Station{{Name: "st1", Nodes: []Node{
			{Name: "n1", ID: "ns=2;s=n1"},
			{Name: "n2", ID: "ns=2;i=7"},
		}}}}},
	}
	c.ApplyDefaults()
	return c
}

func node(c *Config) *Node       { return &c.Lines[0].Stations[0].Nodes[0] }
func station(c *Config) *Station { return &c.Lines[0].Stations[0] }

func addServer(c *Config) {
	s := Server{Name: "plc2", Endpoint: "opc.tcp://10.0.0.2:4840"}
	s.applyDefaults()
	c.Servers = append(c.Servers, s)
	station(c).Server = "plc"
}

func TestValidate(t *testing.T) {
	const n0 = "lines[0].stations[0].nodes[0]"
	tests := []struct {
		name     string
		mutate   func(c *Config)
		path     string // "" when the config must stay valid
		contains string
	}{
		{"valid", func(c *Config) {}, "", ""},
		{"bridge id required", func(c *Config) { c.Bridge.ID = "" }, "bridge.id", "required"},
		{"bridge id pattern", func(c *Config) { c.Bridge.ID = "a b" }, "bridge.id", `"a b" is not a valid id`},
		{"bridge id dots", func(c *Config) { c.Bridge.ID = "munich-1.a_b" }, "", ""},
		{"site slash", func(c *Config) { c.Bridge.Site = "a/b" }, "bridge.site", "without /"},
		{"no servers", func(c *Config) { c.Servers = nil }, "servers", "at least one"},
		{"server name required", func(c *Config) { c.Servers[0].Name = "" }, "servers[0].name", "required"},
		{"server name slash", func(c *Config) { c.Servers[0].Name = "a/b" }, "servers[0].name", "without /"},
		{"server name unique", func(c *Config) { addServer(c); c.Servers[1].Name = "plc" }, "servers[1].name", `duplicate name "plc" (first at servers[0].name)`},
		{"endpoint required", func(c *Config) { c.Servers[0].Endpoint = "" }, "servers[0].endpoint", "required (valid: opc.tcp://"},
		{"endpoint scheme", func(c *Config) { c.Servers[0].Endpoint = "tcp://h:4840" }, "servers[0].endpoint", "not an OPC UA endpoint"},
		{"endpoint port", func(c *Config) { c.Servers[0].Endpoint = "opc.tcp://h" }, "servers[0].endpoint", "not an OPC UA endpoint"},
		{"endpoint port range", func(c *Config) { c.Servers[0].Endpoint = "opc.tcp://h:70000" }, "servers[0].endpoint", "not an OPC UA endpoint"},
		{"endpoint with path", func(c *Config) { c.Servers[0].Endpoint = "opc.tcp://h:4840/UA/Server" }, "", ""},
		{"policy enum", func(c *Config) { c.Servers[0].SecurityPolicy = "basic256" }, "servers[0].security_policy", "(valid: None, Basic128Rsa15, Basic256, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, auto)"},
		{"mode enum", func(c *Config) { c.Servers[0].SecurityMode = "Encrypt" }, "servers[0].security_mode", "(valid: None, Sign, SignAndEncrypt, auto)"},
		{"mode none with policy", func(c *Config) { c.Servers[0].SecurityPolicy = "Basic256Sha256" }, "servers[0].security_mode", `"None" does not go with security_policy "Basic256Sha256"`},
		{"policy none with mode", func(c *Config) { c.Servers[0].SecurityMode = "Sign" }, "servers[0].security_mode", `"Sign" does not go with security_policy "None"`},
		{"secured", func(c *Config) {
			c.Servers[0].SecurityPolicy, c.Servers[0].SecurityMode = "Aes256_Sha256_RsaPss", "SignAndEncrypt"
		}, "", ""},
		{"auth enum", func(c *Config) { c.Servers[0].Auth = "kerberos" }, "servers[0].auth", "(valid: anonymous, username, certificate)"},
		{"certificate auth", func(c *Config) {
			c.Servers[0].Auth, c.Servers[0].UserCertificate, c.Servers[0].UserKey = "certificate", "/u.der", "/u.key"
		}, "", ""},
		{"certificate auth needs key", func(c *Config) {
			c.Servers[0].Auth, c.Servers[0].UserCertificate = "certificate", "/u.der"
		}, "servers[0].user_key", `required with auth = "certificate"`},
		{"user certificate without certificate auth", func(c *Config) {
			c.Servers[0].UserCertificate, c.Servers[0].UserKey = "/u.der", "/u.key"
		}, "servers[0].user_key", `only used with auth = "certificate"`},
		{"username auth needs username", func(c *Config) {
			c.Servers[0].Auth, c.Servers[0].PasswordEnv = "username", "PW"
		}, "servers[0].username", "required"},
		{"username auth needs password", func(c *Config) {
			c.Servers[0].Auth, c.Servers[0].Username = "username", "u"
		}, "servers[0].password_env", "(valid: password_env or password_file)"},
		{"username auth one password", func(c *Config) {
			c.Servers[0].Auth, c.Servers[0].Username = "username", "u"
			c.Servers[0].PasswordEnv, c.Servers[0].PasswordFile = "PW", "/pw"
		}, "servers[0].password_file", "only one"},
		{"username auth ok", func(c *Config) {
			c.Servers[0].Auth, c.Servers[0].Username, c.Servers[0].PasswordFile = "username", "u", "/pw"
			c.Servers[0].SecurityPolicy, c.Servers[0].SecurityMode = "Basic256Sha256", "SignAndEncrypt"
		}, "", ""},
		{"username over None refused", func(c *Config) {
			c.Servers[0].Auth, c.Servers[0].Username, c.Servers[0].PasswordFile = "username", "u", "/pw"
		}, "servers[0].security_mode", "never sent over a channel without encryption"},
		{"username over None allowed", func(c *Config) {
			c.Servers[0].Auth, c.Servers[0].Username, c.Servers[0].PasswordFile = "username", "u", "/pw"
			c.Servers[0].AllowPlaintextPassword = true
		}, "", ""},
		{"anonymous with username", func(c *Config) { c.Servers[0].Username = "u" }, "servers[0].username", `only used with auth = "username"`},
		{"certificate without key", func(c *Config) { c.Servers[0].Certificate = "c.der" }, "servers[0].key", "required when certificate is set"},
		{"key without certificate", func(c *Config) { c.Servers[0].Key = "c.key" }, "servers[0].certificate", "required when key is set"},
		{"publishing interval", func(c *Config) { c.Servers[0].PublishingInterval = -1 }, "servers[0].publishing_interval", "must be greater than 0"},
		{"sampling zero", func(c *Config) { c.Servers[0].SamplingInterval = 0 }, "", ""},
		{"sampling negative", func(c *Config) { c.Servers[0].SamplingInterval = Duration(-time.Second) }, "servers[0].sampling_interval", "-1s must not be negative"},
		{"request timeout", func(c *Config) { c.Servers[0].RequestTimeout = 0 }, "servers[0].request_timeout", "must be greater than 0"},
		{"skew threshold", func(c *Config) { c.Servers[0].ClockSkewThreshold = Duration(10 * time.Millisecond) }, "servers[0].clock_skew_threshold", "out of range"},
		{"clock check", func(c *Config) { c.Servers[0].ClockCheckInterval = Duration(time.Second) }, "servers[0].clock_check_interval", "out of range"},
		{"line name required", func(c *Config) { c.Lines[0].Name = "" }, "lines[0].name", "required"},
		{"line name unique", func(c *Config) { c.Lines = append(c.Lines, Line{Name: "line1"}) }, "lines[1].name", "duplicate name"},
		{"station name required", func(c *Config) { station(c).Name = "" }, "lines[0].stations[0].name", "required"},
		{"station name unique", func(c *Config) {
			c.Lines[0].Stations = append(c.Lines[0].Stations, Station{Name: "st1"})
		}, "lines[0].stations[1].name", "duplicate name"},
		{"station names per line", func(c *Config) {
			c.Lines = append(c.Lines, Line{Name: "line2", Stations: c.Lines[0].Stations})
		}, "", ""},
		{"station unknown server", func(c *Config) { station(c).Server = "plc9" }, "lines[0].stations[0].server", `"plc9" is not a configured server (valid: plc)`},
		{"station server needed", func(c *Config) { addServer(c); station(c).Server = "" }, "lines[0].stations[0].server", "(valid: plc, plc2)"},
		{"station server named", func(c *Config) { addServer(c); station(c).Server = "plc2" }, "", ""},
		{"node name required", func(c *Config) { node(c).Name = "" }, n0 + ".name", "required"},
		{"node name slash", func(c *Config) { node(c).Name = "a/b" }, n0 + ".name", "without /"},
		{"node id required", func(c *Config) { node(c).ID = "" }, n0 + ".id", "required"},
		{"node id syntax", func(c *Config) { node(c).ID = "ns=2;q=1" }, n0 + ".id", "must start with i=, s=, g= or b="},
		{"node id nsu", func(c *Config) { node(c).ID = "nsu=urn:x;s=a.b" }, "", ""},
		{"node trigger", func(c *Config) { node(c).Trigger = "value" }, n0 + ".trigger", "(valid: status, status_value, status_value_timestamp)"},
		{"node deadband enum", func(c *Config) { node(c).Deadband = "relative" }, n0 + ".deadband", "(valid: none, absolute, percent)"},
		{"node percent range", func(c *Config) { node(c).Deadband, node(c).DeadbandValue = "percent", 101 }, n0 + ".deadband_value", "(valid: 0–100)"},
		{"node percent ok", func(c *Config) { node(c).Deadband, node(c).DeadbandValue = "percent", 100 }, "", ""},
		{"node absolute big", func(c *Config) { node(c).Deadband, node(c).DeadbandValue = "absolute", 1e6 }, "", ""},
		{"node deadband negative", func(c *Config) { node(c).Deadband, node(c).DeadbandValue = "absolute", -1 }, n0 + ".deadband_value", "0 or more"},
		{"node deadband value unused", func(c *Config) { node(c).DeadbandValue = 2 }, n0 + ".deadband_value", `deadband is ""`},
		{"node interval negative", func(c *Config) { node(c).PublishingInterval = -1 }, n0 + ".publishing_interval", "must not be negative"},
		{"duplicate reading", func(c *Config) { station(c).Nodes[1].Name = "n1" }, "lines[0].stations[0].nodes[1].name", `duplicate reading name "line1/st1/n1" (first at lines[0].stations[0].nodes[0].name)`},
		{"no nodes", func(c *Config) { station(c).Nodes = nil }, "lines", "no nodes configured"},
		{"no lines", func(c *Config) { c.Lines = nil }, "lines", "no nodes configured"},
		{"buffer max bytes", func(c *Config) { c.Buffer.MaxBytes = 1<<20 - 1 }, "buffer.max_bytes", "1 MiB"},
		{"buffer max bytes min", func(c *Config) { c.Buffer.MaxBytes = 1 << 20 }, "", ""},
		{"commit interval low", func(c *Config) { c.Buffer.CommitInterval = Duration(time.Microsecond) }, "buffer.commit_interval", "(valid: 1ms to 10s)"},
		{"commit interval high", func(c *Config) { c.Buffer.CommitInterval = Duration(11 * time.Second) }, "buffer.commit_interval", "(valid: 1ms to 10s)"},
		{"commit max readings", func(c *Config) { c.Buffer.CommitMaxReadings = 0 }, "buffer.commit_max_readings", "1 or more"},
		{"broker required", func(c *Config) { c.MQTT.Broker = "" }, "mqtt.broker", "required"},
		{"broker scheme", func(c *Config) { c.MQTT.Broker = "mqtt://h:1883" }, "mqtt.broker", "not an MQTT broker URL"},
		{"broker host", func(c *Config) { c.MQTT.Broker = "tcp://:1883" }, "mqtt.broker", "not an MQTT broker URL"},
		{"broker port", func(c *Config) { c.MQTT.Broker = "ssl://h" }, "mqtt.broker", "needs a port"},
		{"broker user info", func(c *Config) { c.MQTT.Broker = "tcp://u:hunter2@h:1883" }, "mqtt.broker", "not allowed"},
		{"endpoint user info", func(c *Config) { c.Servers[0].Endpoint = "opc.tcp://u:hunter2@h:4840" }, "servers[0].endpoint", "not allowed"},
		{"broker ws", func(c *Config) { c.MQTT.Broker = "wss://h/mqtt" }, "", ""},
		{"qos", func(c *Config) { q := 2; c.MQTT.QoS = &q }, "mqtt.qos", "(valid: 0, 1)"},
		{"qos 0", func(c *Config) { q := 0; c.MQTT.QoS = &q }, "", ""},
		{"topic empty", func(c *Config) { c.MQTT.Topic = "" }, "mqtt.topic", "required"},
		{"topic placeholder", func(c *Config) { c.MQTT.Topic = "a/{site}" }, "mqtt.topic", "(valid: {bridge} {server} {line} {station})"},
		{"topic unclosed", func(c *Config) { c.MQTT.Topic = "a/{line" }, "mqtt.topic", "unknown placeholder"},
		{"topic wildcard", func(c *Config) { c.MQTT.Topic = "a/#" }, "mqtt.topic", "wildcard"},
		{"topic all placeholders", func(c *Config) { c.MQTT.Topic = "{bridge}/{server}/{line}/{station}" }, "", ""},
		{"max message bytes", func(c *Config) { c.MQTT.MaxMessageBytes = 1023 }, "mqtt.max_message_bytes", "1 KiB"},
		{"iothub", toHub, "", ""},
		{"iothub over 3.1.1", func(c *Config) { toHub(c); c.MQTT.Protocol = "3.1.1" }, "", ""},
		{"iothub over 5", func(c *Config) { toHub(c); c.MQTT.Protocol = "5" }, "mqtt.protocol", "speak MQTT 3.1.1"},
		{"iothub session expiry", func(c *Config) { toHub(c); c.MQTT.SessionExpiry = Duration(time.Minute) }, "mqtt.session_expiry", "no session expiry"},
		{"iothub probe topic", func(c *Config) { toHub(c); c.MQTT.ProbeTopic = "p" }, "mqtt.probe_topic", "[iothub] takes"},
		{"protocol 5", func(c *Config) { c.MQTT.Protocol = "5" }, "", ""},
		{"protocol 3.1.1", func(c *Config) { c.MQTT.Protocol = "3.1.1" }, "", ""},
		{"protocol", func(c *Config) { c.MQTT.Protocol = "3" }, "mqtt.protocol", "(valid: auto, 5, 3.1.1)"},
		{"session expiry", func(c *Config) { c.MQTT.SessionExpiry = Duration(time.Millisecond) }, "mqtt.session_expiry", "out of range"},
		{"probe topic wildcard", func(c *Config) { c.MQTT.ProbeTopic = "p/#" }, "mqtt.probe_topic", "wildcard"},
		{"probe topic placeholder", func(c *Config) { c.MQTT.ProbeTopic = "p/{line}" }, "mqtt.probe_topic", "{bridge} only"},
		{"probe topic is the topic", func(c *Config) { c.MQTT.ProbeTopic = c.MQTT.Topic }, "mqtt.probe_topic", "of its own"},
		{"iothub max message bytes low", func(c *Config) { toHub(c); c.MQTT.MaxMessageBytes = 1023 }, "mqtt.max_message_bytes", "1 KiB"},
		{"iothub max message bytes high", func(c *Config) { toHub(c); c.MQTT.MaxMessageBytes = 256 << 10 }, "mqtt.max_message_bytes", "IoT Hub's limit"},
		{"max message bytes high", func(c *Config) { c.MQTT.MaxMessageBytes = 256<<20 + 1 }, "mqtt.max_message_bytes", "256 MiB"},
		{"max inflight", func(c *Config) { c.MQTT.MaxInflight = 65536 }, "mqtt.max_inflight", "(valid: 1–65535)"},
		{"encoding", func(c *Config) { c.MQTT.Encoding = "json" }, "mqtt.encoding", "(valid: compact, flat, pubsub-json)"},
		{"mqtt password needs user", func(c *Config) { c.MQTT.PasswordEnv = "PW" }, "mqtt.username", "required"},
		{"mqtt one password", func(c *Config) {
			c.MQTT.Username, c.MQTT.PasswordEnv, c.MQTT.PasswordFile = "u", "PW", "/pw"
		}, "mqtt.password_file", "only one"},
		{"mqtt user only", func(c *Config) { c.MQTT.Username = "u" }, "", ""},
		{"mqtt password without tls", func(c *Config) { c.MQTT.Username, c.MQTT.PasswordEnv = "u", "PW" }, "mqtt.broker", "a password is never sent without it"},
		{"mqtt password file over ws", func(c *Config) {
			c.MQTT.Broker, c.MQTT.Username, c.MQTT.PasswordFile = "ws://h/mqtt", "u", "/pw"
		}, "mqtt.broker", "allow_plaintext_password = true"},
		{"mqtt password without tls allowed", func(c *Config) {
			c.MQTT.Username, c.MQTT.PasswordEnv, c.MQTT.AllowPlaintextPassword = "u", "PW", true
		}, "", ""},
		{"mqtt password over tls", func(c *Config) { c.MQTT.Broker, c.MQTT.Username, c.MQTT.PasswordEnv = "wss://h/mqtt", "u", "PW" }, "", ""},
		{"mqtt cert without key", func(c *Config) { c.MQTT.Broker, c.MQTT.CertFile = "ssl://h:8883", "c.pem" }, "mqtt.key_file", "required"},
		{"mqtt ca without tls", func(c *Config) { c.MQTT.CAFile = "ca.pem" }, "mqtt.ca_file", "does not use TLS"},
		{"mqtt tls", func(c *Config) {
			c.MQTT.Broker, c.MQTT.CAFile, c.MQTT.CertFile, c.MQTT.KeyFile = "tls://h:8883", "ca", "c", "k"
		}, "", ""},
		{"mqtt keep alive", func(c *Config) { c.MQTT.KeepAlive = -1 }, "mqtt.keep_alive", "greater than 0"},
		{"mqtt insecure without tls", func(c *Config) { c.MQTT.InsecureSkipVerify = true }, "mqtt.insecure_skip_verify", "does not use TLS"},
		{"mqtt insecure with tls", func(c *Config) { c.MQTT.Broker, c.MQTT.InsecureSkipVerify = "ssl://h:8883", true }, "", ""},
		{"policy auto", func(c *Config) { c.Servers[0].SecurityPolicy, c.Servers[0].SecurityMode = "auto", "auto" }, "", ""},
		{"policy auto, mode set", func(c *Config) { c.Servers[0].SecurityPolicy, c.Servers[0].SecurityMode = "auto", "Sign" }, "", ""},
		{"policy set, mode auto", func(c *Config) { c.Servers[0].SecurityPolicy, c.Servers[0].SecurityMode = "Basic256Sha256", "auto" }, "", ""},
		{"trust on first use", func(c *Config) { c.Servers[0].TrustOnFirstUse = true }, "", ""},
		{"host name check warn", func(c *Config) { c.Servers[0].HostNameCheck = "warn" }, "", ""},
		{"host name check", func(c *Config) { c.Servers[0].HostNameCheck = "ignore" }, "servers[0].host_name_check", "(valid: refuse, warn)"},
		{"application uri", func(c *Config) { c.Bridge.ApplicationURI = "urn:gw:factorybridge" }, "", ""},
		{"application uri not a uri", func(c *Config) { c.Bridge.ApplicationURI = "gateway" }, "bridge.application_uri", "not a URI"},
		{"pki dir required", func(c *Config) { c.Bridge.PKIDir = "" }, "bridge.pki_dir", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			err := c.Validate()
			if tt.path == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !hasProblem(err, tt.path, tt.contains) {
				t.Fatalf("Validate = %v\nwant a problem at %s containing %q", err, tt.path, tt.contains)
			}
		})
	}
}

func hasProblem(err error, path, contains string) bool {
	var errs *Errors
	if !errors.As(err, &errs) {
		return false
	}
	for _, p := range *errs {
		if p.Path == path && strings.Contains(p.Msg, contains) {
			return true
		}
	}
	return false
}

// TestValidateFillsNothing checks that Validate reports a zero Config's
// defaults as problems instead of filling them in.
func TestValidateFillsNothing(t *testing.T) {
	var c Config
	err := c.Validate()
	if !reflect.DeepEqual(c, Config{}) {
		t.Errorf("Validate changed the config: %+v", c)
	}
	for _, path := range []string{"bridge.id", "bridge.data_dir", "buffer.path", "mqtt.broker", "mqtt.encoding", "servers", "lines"} {
		if !hasProblem(err, path, "") {
			t.Errorf("no problem at %s in:\n%v", path, err)
		}
	}
}

// TestValidateProblemFormat checks problems of a Config built in code: no
// file, no line.
func TestValidateProblemFormat(t *testing.T) {
	c := validConfig()
	c.MQTT.Encoding = "json"
	got := c.Validate().Error()
	want := `mqtt.encoding: "json" is not a valid encoding (valid: compact, flat, pubsub-json)`
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestPKIDirDefault(t *testing.T) {
	c := &Config{Bridge: Bridge{DataDir: "/srv/fb"}}
	c.ApplyDefaults()
	if got, want := c.Bridge.PKIDir, "/srv/fb/pki"; got != want {
		t.Errorf("pki_dir %q, want %q", got, want)
	}
}

// toHub turns a valid plain-broker configuration into a valid [iothub] one.
func toHub(c *Config) {
	c.IoTHub = &IoTHub{ConnectionStringEnv: "HUB_CS"}
	c.IoTHub.applyDefaults()
	c.MQTT.Broker, c.MQTT.ClientID, c.MQTT.Topic, c.MQTT.OEETopic, c.MQTT.EventTopic = "", "", "", "", ""
	c.MQTT.Protocol, c.MQTT.SessionExpiry, c.MQTT.ProbeTopic = "", 0, ""
	c.MQTT.MaxMessageBytes = DefaultIoTHubMaxPayload
}
