package iothub

import (
	"context"
	"time"

	"factorybridge/publisher/mqtt"
)

// IoT Hub's ports, limits and the defaults of Options.
const (
	// PortMQTT and PortWebSocket are the hub's ports of MQTT over TLS and
	// of MQTT over secure WebSockets.
	PortMQTT      = 8883
	PortWebSocket = 443
	// MaxMessageBytes is the hub's device-to-cloud limit (256 KB), which
	// counts the properties too; PropertyBudget of it is kept for the
	// property bag, so MaxPayloadBytes is the largest payload, and the
	// default.
	MaxMessageBytes = 256 << 10
	PropertyBudget  = 1 << 10
	MaxPayloadBytes = MaxMessageBytes - PropertyBudget
	// DefaultTokenLifetime is the lifetime of minted SAS tokens.
	DefaultTokenLifetime = 60 * time.Minute
	// DefaultReportInterval is the shortest time between reported-property
	// patches of the twin.
	DefaultReportInterval = 60 * time.Second
	// DefaultOutput is the module output messages go to.
	DefaultOutput = "telemetry"
	// MaxKeepAlive is the longest MQTT keep-alive the hub honours: it
	// times a connection out after 1.5 × the keep-alive, at most 1,767 s
	// (Azure's load balancer idle timeout), so 1,177 s.
	MaxKeepAlive = 1177 * time.Second
	// DefaultAckTimeout is how long a message may wait for its PUBACK.
	// A throttled hub queues sends and acknowledges them late (traffic
	// shaping) before it refuses any by closing the connection; a shorter
	// timeout would turn that latency into reconnects and resends, the
	// duplicates throttling must not cause. A dead connection is found by
	// the keep-alive instead.
	DefaultAckTimeout = 10 * time.Minute
)

// Options configure a Publisher to Azure IoT Hub or IoT Edge's edgeHub:
// the MQTT transport's tuning, and the hub identity that decides the
// broker, ClientId, Username, password and topics. Every message is sent at
// QoS 1 with a property bag, and each connection serves direct methods and
// the device twin. Zero values mean the documented defaults.
type Options struct {
	// MQTT tunes the transport. BridgeID and Queue are required as for
	// mqtt.New; QoS must be nil or 1; MaxMessageBytes is at most
	// MaxPayloadBytes, and defaults to it; KeepAlive is at most
	// MaxKeepAlive; AckTimeout defaults to DefaultAckTimeout. The plain broker's settings
	// (Broker, ClientID, topics, Username, Password, TLS files) must be
	// empty, and Dialect is New's to set.
	MQTT mqtt.Options
	// Identity names the device or module in its hub. Required.
	Identity Identity
	// Host is where to connect: the hub, a gateway or edgeHub. Default
	// Identity.HostName.
	Host string
	// Port defaults to PortMQTT, or PortWebSocket with WebSocket.
	Port int
	// WebSocket selects MQTT over secure WebSockets.
	WebSocket bool
	// Signer mints a SAS token for every connection; nil for a fixed Token
	// or X.509 (then CertFile and KeyFile).
	Signer Signer
	// Token is a ready SAS token, used when Signer is nil; it cannot be
	// renewed, so the bridge stops publishing when it expires.
	Token string
	// TokenLifetime of minted tokens; they are renewed at 80 % of it.
	// Default DefaultTokenLifetime.
	TokenLifetime time.Duration
	// CAFile adds PEM roots to the system's; TrustBundle, when set, is asked
	// for more roots at each connection attempt (IoT Edge's workload API).
	CAFile      string
	TrustBundle func(ctx context.Context) ([]byte, error)
	// EdgeCAFile adds PEM roots too: the file IoT Edge names in
	// EdgeModuleCACertificateFile beside EdgeHubConnectionString (Resolve
	// sets it). "" adds none.
	EdgeCAFile string
	// CertFile and KeyFile are the X.509 client certificate and key.
	CertFile, KeyFile string
	// Output is the module output ($.on) messages go to; modules only.
	// Default DefaultOutput.
	Output string
	// NoTwin publishes telemetry only: no direct methods, no device twin,
	// as a Basic-tier hub, which has neither, requires. With false they are
	// set up on each connection, and turned off when the hub behaves as a
	// Basic-tier one (it closes the connection instead of answering).
	NoTwin bool
	// ReportInterval is the shortest time between reported-property
	// patches. Default DefaultReportInterval.
	ReportInterval time.Duration
	// Reporter answers direct methods and fills the twin's reported
	// properties; nil reports the publisher's own counters and no OEE.
	Reporter Reporter
	// SetLogLevel applies the twin's desired logLevel; nil ignores it.
	SetLogLevel func(level string) error
}

// Reporter tells the hub about the bridge.
type Reporter interface {
	// Status is GetStatus's answer, marshalled as JSON.
	Status() any
	// OEE is GetOEE's answer; ok is false when no line computes OEE.
	OEE() (v any, ok bool)
	// Reported are the twin's reported properties, marshalled as a JSON object.
	Reported() any
}
