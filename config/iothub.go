package config

import (
	"fmt"
	"time"

	"factorybridge/publisher/iothub"
	"factorybridge/publisher/mqtt"
)

// IoT Hub defaults and limits. The hub's are the iothub package's; config
// names them for the schema.
const (
	DefaultIoTHubEdge          = iothub.EdgeAuto
	DefaultIoTHubTransport     = "mqtt"
	DefaultIoTHubTokenLifetime = iothub.DefaultTokenLifetime
	DefaultIoTHubOutput        = iothub.DefaultOutput
	DefaultIoTHubReport        = iothub.DefaultReportInterval
	// IoTHubMaxMessageBytes is the hub's device-to-cloud limit (256 KB),
	// which counts the properties too; IoTHubPropertyBudget of it is kept
	// for the property bag, so the default payload limit is the rest.
	IoTHubMaxMessageBytes   = iothub.MaxMessageBytes
	IoTHubPropertyBudget    = iothub.PropertyBudget
	DefaultIoTHubMaxPayload = iothub.MaxPayloadBytes
	// IoTHubMaxKeepAlive is the longest mqtt.keep_alive with [iothub].
	IoTHubMaxKeepAlive     = iothub.MaxKeepAlive
	minIoTHubTokenLifetime = 10 * time.Second
	maxIoTHubTokenLifetime = 365 * 24 * time.Hour
)

var (
	iotHubEdgeModes  = []string{iothub.EdgeAuto, iothub.EdgeOn, iothub.EdgeOff}
	iotHubTransports = []string{"mqtt", iotHubWebSocket}
)

// iotHubWebSocket is the transport of MQTT over secure WebSockets.
const iotHubWebSocket = "websocket"

// IoTHub makes the bridge publish to Azure IoT Hub, or to edgeHub as an IoT
// Edge module, in place of a plain MQTT broker. The [mqtt] table then only
// tunes packing (encoding, max_batch_delay, cycle_grace, max_message_bytes,
// max_inflight, keep_alive, connect_timeout); the broker, topics and credentials come from
// the identity.
type IoTHub struct {
	// The device or module connection string, from an environment variable
	// or a file (never inline): HostName=…;DeviceId=…;SharedAccessKey=…
	// with optional ModuleId, GatewayHostName, SharedAccessSignature, x509.
	ConnectionStringEnv  string `toml:"connection_string_env"`
	ConnectionStringFile string `toml:"connection_string_file"`
	// Edge: "auto" (default) runs as an IoT Edge module when the IOTEDGE_*
	// variables are set and no connection string is configured; "on"
	// requires them; "off" never uses them.
	Edge string `toml:"edge"`
	// Transport: "mqtt" (TLS, port 8883; default) or "websocket" (MQTT over
	// secure WebSockets, port 443, for plants where 8883 is closed).
	Transport string `toml:"transport"`
	// Port overrides the transport's port (0: 8883 or 443).
	Port int `toml:"port"`
	// TokenLifetime of the SAS tokens minted; each is renewed by
	// reconnecting at 80 % of it. Default 60m.
	TokenLifetime Duration `toml:"token_lifetime"`
	// CAFile adds roots to verify the hub or gateway (e.g. the IoT Edge
	// device's CA with GatewayHostName); the system roots are always used.
	CAFile string `toml:"ca_file"`
	// CertFile and KeyFile are the device's X.509 certificate and key, for
	// connection strings with x509=true.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// Output is the module output messages are sent to in module mode, the
	// name edgeHub routes select with FROM /messages/modules/<id>/outputs/<output>.
	Output string `toml:"output"`
	// MaxMessagesPerSecond caps the send rate to stay inside a hub tier's
	// throttle (0: no cap).
	MaxMessagesPerSecond float64 `toml:"max_messages_per_second"`
	// ReportInterval is the shortest time between two reported-property
	// updates of the device twin. Default 60s.
	ReportInterval Duration `toml:"report_interval"`
	// Twin: true (default) serves direct methods and the device twin, and
	// falls back to telemetry only when the hub behaves as a Basic-tier
	// one; false never uses them (Basic tier hubs have neither).
	Twin *bool `toml:"twin"`

	// ConnectionString is resolved from ConnectionStringEnv or
	// ConnectionStringFile at load time.
	ConnectionString Secret `toml:"-"`
}

func (h *IoTHub) applyDefaults() {
	setDefault(&h.Edge, DefaultIoTHubEdge)
	setDefault(&h.Transport, DefaultIoTHubTransport)
	setDefault(&h.TokenLifetime, Duration(DefaultIoTHubTokenLifetime))
	setDefault(&h.Output, DefaultIoTHubOutput)
	setDefault(&h.ReportInterval, Duration(DefaultIoTHubReport))
}

func (v checker) iotHub(h *IoTHub, m MQTT) {
	v.oneOf("iothub.edge", h.Edge, "edge mode", iotHubEdgeModes)
	v.oneOf("iothub.transport", h.Transport, "transport", iotHubTransports)
	hasCS := h.ConnectionStringEnv != "" || h.ConnectionStringFile != ""
	switch {
	case h.ConnectionStringEnv != "" && h.ConnectionStringFile != "":
		v.r.add("iothub.connection_string_file", "set only one of connection_string_env and connection_string_file")
	case !hasCS && h.Edge == "off":
		v.r.add("iothub.connection_string_env", "required with edge = \"off\" (valid: connection_string_env or connection_string_file)")
	case hasCS && h.Edge == "on":
		v.r.add("iothub.connection_string_env", "set, but edge = \"on\" takes the identity from IoT Edge (valid: remove it, or edge = \"auto\")")
	}
	v.pair("iothub", "cert_file", h.CertFile, "key_file", h.KeyFile)
	if h.Port != 0 {
		v.between("iothub.port", h.Port, 1, 65535, "1–65535, or 0 for the transport's port")
	}
	v.durationIn("iothub.token_lifetime", h.TokenLifetime, minIoTHubTokenLifetime, maxIoTHubTokenLifetime)
	v.name("iothub.output", h.Output)
	if h.MaxMessagesPerSecond < 0 {
		v.r.add("iothub.max_messages_per_second", "%v is negative (valid: 0 for no cap, or a rate)", h.MaxMessagesPerSecond)
	}
	v.positive("iothub.report_interval", h.ReportInterval)
	v.mqttUnderHub(m)
}

// hubIdentity checks the connection string the file names as the publisher
// will read it (an identity from the IoT Edge runtime is only known where
// the module runs). The errors name the part that is wrong, never the key.
func (v checker) hubIdentity(c *Config) {
	h := c.IoTHub
	if h.ConnectionString == "" {
		return
	}
	if _, _, err := c.IoTHubOptions(func(string) string { return "" }); err != nil {
		path := "iothub.connection_string_env"
		if h.ConnectionStringFile != "" {
			path = "iothub.connection_string_file"
		}
		v.r.add(path, "%v (valid: HostName=…;DeviceId=…;SharedAccessKey=…, see docs/iothub.md)", err)
	}
}

// mqttUnderHub refuses [mqtt] settings an IoT Hub identity replaces, so
// that none is silently ignored, and the ones the hub does not allow.
func (v checker) mqttUnderHub(m MQTT) {
	for _, kv := range [][2]string{{"broker", m.Broker}, {"client_id", m.ClientID}, {"topic", m.Topic},
		{"oee_topic", m.OEETopic}, {"event_topic", m.EventTopic}, {"username", m.Username}, {"password_env", m.PasswordEnv},
		{"password_file", m.PasswordFile}, {"ca_file", m.CAFile}, {"cert_file", m.CertFile}, {"key_file", m.KeyFile},
		{"probe_topic", m.ProbeTopic}} {
		if kv[1] != "" {
			v.r.add("mqtt."+kv[0], "set, but [iothub] takes the broker, topics and credentials from the hub identity (valid: remove it; TLS files go in [iothub])")
		}
	}
	if m.Protocol != "" && m.Protocol != mqtt.Protocol311 {
		v.r.add("mqtt.protocol", "%q with [iothub]: IoT Hub and IoT Edge speak MQTT 3.1.1 (valid: remove it)", m.Protocol)
	}
	if m.SessionExpiry != 0 {
		v.r.add("mqtt.session_expiry", "set, but [iothub] speaks MQTT 3.1.1, which has no session expiry (valid: remove it)")
	}
	if m.InsecureSkipVerify {
		v.r.add("mqtt.insecure_skip_verify", "not available with [iothub]: the hub's certificate is always verified (valid: iothub.ca_file to add a root)")
	}
	if m.QoS != nil && *m.QoS != 1 {
		v.r.add("mqtt.qos", "%d with [iothub]: every message is sent at QoS 1 so that nothing is deleted before the hub has it (valid: 1)", *m.QoS)
	}
	v.atLeast("mqtt.max_message_bytes", m.MaxMessageBytes, minMessageBytes, fmt.Sprintf("%d (%s) or more", minMessageBytes, kib(minMessageBytes)))
	if m.KeepAlive.D() > IoTHubMaxKeepAlive {
		v.r.add("mqtt.keep_alive", "%v is over IoT Hub's limit with [iothub] (valid: at most %v: the hub times out at 1.5 x keep_alive, at most 1767s)",
			m.KeepAlive.D(), IoTHubMaxKeepAlive)
	}
	if m.MaxMessageBytes > DefaultIoTHubMaxPayload {
		v.r.add("mqtt.max_message_bytes", "%d is over IoT Hub's limit with [iothub] (valid: %d to %d: 256 KB less 1 KiB for properties)",
			m.MaxMessageBytes, minMessageBytes, DefaultIoTHubMaxPayload)
	}
}
