package publisher

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"factorybridge/config"
	"factorybridge/publisher/iothub"
)

// IoT Hub transport ports and the WebSocket path.
const (
	HubPortMQTT      = 8883
	HubPortWebSocket = 443
	hubWebSocketPath = "/$iothub/websocket"
	// renewFraction of a token's lifetime passes before it is renewed.
	renewFraction = 0.8
	billingUnit   = 4096 // bytes IoT Hub meters a message in
)

// Hub makes a Publisher speak Azure IoT Hub's MQTT dialect (Options.Hub):
// the broker, ClientId, Username, password and topics come from the
// identity, every message is sent at QoS 1 with a property bag, and the
// connection serves direct methods and the device twin.
type Hub struct {
	// Identity names the device or module in its hub. Required.
	Identity iothub.Identity
	// Host is where to connect: the hub, a gateway or edgeHub. Default
	// Identity.HostName.
	Host string
	// Port defaults to HubPortMQTT, or HubPortWebSocket with WebSocket.
	Port int
	// WebSocket selects MQTT over secure WebSockets.
	WebSocket bool
	// Signer mints a SAS token for every connection; nil for a fixed Token
	// or X.509 (then CertFile and KeyFile).
	Signer iothub.Signer
	// Token is a ready SAS token, used when Signer is nil; it cannot be
	// renewed, so the bridge stops publishing when it expires.
	Token string
	// TokenLifetime of minted tokens; they are renewed at 80 % of it.
	// Default config.DefaultIoTHubTokenLifetime.
	TokenLifetime time.Duration
	// CAFile adds PEM roots to the system's; TrustBundle, when set, is asked
	// for more roots at each connection attempt (IoT Edge's workload API).
	CAFile      string
	TrustBundle func(ctx context.Context) ([]byte, error)
	// CertFile and KeyFile are the X.509 client certificate and key.
	CertFile, KeyFile string
	// Output is the module output ($.on) messages go to; modules only.
	Output string
	// MaxMessagesPerSecond caps the send rate; 0 means no cap.
	MaxMessagesPerSecond float64
	// ReportInterval is the shortest time between reported-property
	// patches. Default config.DefaultIoTHubReport.
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

// hubDialect is a Hub with its defaults applied and its parts prepared.
type hubDialect struct {
	Hub
	bridgeID string
	roots    *x509.CertPool // system roots plus CAFile; TrustBundle's are added per attempt
	cert     *tls.Certificate
	// statusTopic is the topic of status messages (no line, no message id).
	statusTopic string
}

func newHubDialect(h Hub, bridgeID string) (*hubDialect, error) {
	id := h.Identity
	switch {
	case id.HostName == "" || id.DeviceID == "":
		return nil, errors.New("iothub: the identity needs a host name and a device id")
	case h.Signer == nil && h.Token == "" && h.CertFile == "":
		return nil, errors.New("iothub: no credentials: a key, a token or an X.509 certificate")
	case (h.CertFile == "") != (h.KeyFile == ""):
		return nil, errors.New("iothub: cert_file and key_file must be set together")
	case h.MaxMessagesPerSecond < 0:
		return nil, errors.New("iothub: max_messages_per_second may not be negative")
	}
	d := &hubDialect{Hub: h, bridgeID: bridgeID}
	if d.Host == "" {
		d.Host = id.HostName
	}
	if d.Port == 0 {
		d.Port = HubPortMQTT
		if d.WebSocket {
			d.Port = HubPortWebSocket
		}
	}
	if d.TokenLifetime <= 0 {
		d.TokenLifetime = config.DefaultIoTHubTokenLifetime
	}
	if d.ReportInterval <= 0 {
		d.ReportInterval = config.DefaultIoTHubReport
	}
	if d.Output == "" {
		d.Output = config.DefaultIoTHubOutput
	}
	d.statusTopic = d.Identity.TelemetryTopic() + d.properties("status").Encode()
	return d, nil
}

// brokerURL is where paho connects.
func (d *hubDialect) brokerURL() *url.URL {
	hostPort := net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	if d.WebSocket {
		return &url.URL{Scheme: "wss", Host: hostPort, Path: hubWebSocketPath}
	}
	return &url.URL{Scheme: "ssl", Host: hostPort}
}

// topics returns the topic templates of readings and OEE records: the
// telemetry topic and a property bag that lets hub routing split messages
// by type, bridge and line without reading their bodies. The message id is
// appended per message (messageTopic).
func (d *hubDialect) topics() (readings, oee *topicTemplate) {
	return d.topic("telemetry"), d.topic("oee")
}

// properties are the property bag of a message type, without the line.
func (d *hubDialect) properties(kind string) iothub.Properties {
	props := iothub.Properties{{"$.ct", "application/json"}, {"$.ce", "utf-8"}}
	if d.Identity.ModuleID != "" {
		props = append(props, [2]string{"$.on", d.Output})
	}
	return append(props, [2]string{"type", kind}, [2]string{"bridge", d.bridgeID})
}

func (d *hubDialect) topic(kind string) *topicTemplate {
	props := append(d.properties(kind), [2]string{"line", ""})
	return &topicTemplate{
		parts:  []topicPart{{text: d.Identity.TelemetryTopic() + props.Encode()}, {field: fieldLine}},
		cache:  map[topicKey]string{},
		escape: iothub.Escape,
	}
}

// messageTopic appends the message id: the bridge and the message's first
// seq, so a message resent unchanged keeps its id.
func (d *hubDialect) messageTopic(topic string, first uint64) string {
	return topic + "&$.mid=" + iothub.Escape(d.bridgeID) + "-" + strconv.FormatUint(first, 10)
}

// load reads the TLS files; it runs once when Run starts.
func (d *hubDialect) load() error {
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if d.CAFile != "" {
		if err := appendPEMFile(roots, d.CAFile, "iothub.ca_file"); err != nil {
			return err
		}
	}
	d.roots = roots
	if d.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(d.CertFile, d.KeyFile)
		if err != nil {
			return fmt.Errorf("load iothub client certificate: %w", err)
		}
		d.cert = &cert
	}
	return nil
}

// tlsConfig is the TLS configuration of one connection attempt. The hub
// is always verified; edgeHub with the runtime's trust bundle.
func (d *hubDialect) tlsConfig(ctx context.Context) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: d.roots, ServerName: d.Host}
	if d.cert != nil {
		c.Certificates = []tls.Certificate{*d.cert}
	}
	if d.TrustBundle == nil {
		return c, nil
	}
	pem, err := d.TrustBundle(ctx)
	if err != nil {
		return nil, fmt.Errorf("get IoT Edge trust bundle: %w", err)
	}
	c.RootCAs = d.roots.Clone()
	if !c.RootCAs.AppendCertsFromPEM(pem) {
		return nil, errors.New("IoT Edge trust bundle holds no PEM certificate")
	}
	return c, nil
}

// password returns the SAS token of one connection and when it must be
// renewed (zero: never). X.509 connects with an empty password.
func (d *hubDialect) password(ctx context.Context, now time.Time) (string, time.Time, error) {
	switch {
	case d.Signer != nil:
		expiry := now.Add(d.TokenLifetime)
		tok, err := iothub.Token(ctx, d.Signer, d.Identity.ResourceURI(), expiry)
		if err != nil {
			return "", time.Time{}, err
		}
		return tok, now.Add(time.Duration(renewFraction * float64(d.TokenLifetime))), nil
	case d.Token != "":
		if se, ok := iothub.TokenExpiry(d.Token); ok && !now.Before(se) {
			return "", time.Time{}, fmt.Errorf("the SharedAccessSignature of the connection string expired at %s; "+
				"put a new one there, or a SharedAccessKey so that the bridge mints its own", se.UTC().Format(time.RFC3339))
		}
		return d.Token, time.Time{}, nil
	}
	return "", time.Time{}, nil
}

// billableUnits estimates what IoT Hub meters a message as: its size with
// properties in 4 KB units.
func billableUnits(payload int, topic string) uint64 {
	return uint64((payload + len(topic) + billingUnit - 1) / billingUnit)
}
