package iothub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"factorybridge/publisher/mqtt"
	"factorybridge/publisher/wire"
)

const (
	webSocketPath = "/$iothub/websocket"
	// renewFraction of a token's lifetime passes before it is renewed.
	renewFraction = 0.8
	billingUnit   = 4096 // bytes IoT Hub meters a message in
)

// dialect is IoT Hub's MQTT dialect: Options with their defaults applied
// and their parts prepared.
type dialect struct {
	Options
	roots *x509.CertPool // system roots plus CAFile; TrustBundle's are added per attempt
	cert  *tls.Certificate
	// statusTopic is the topic of status messages (no line, no message id).
	statusTopic string
	// billing, tier and metaIDs outlive an update that replaces the
	// dialect (inherit).
	billing *billingMeter
	tier    *tier          // whether the hub offers methods and the twin
	metaIDs *atomic.Uint64 // ids of messages without readings
}

var (
	_ mqtt.Dialect   = (*dialect)(nil)
	_ mqtt.Updatable = (*dialect)(nil)
)

func newDialect(o Options) (*dialect, error) {
	id := o.Identity
	switch {
	case id.HostName == "" || id.DeviceID == "":
		return nil, errors.New("iothub: the identity needs a host name and a device id")
	case o.Signer == nil && o.Token == "" && o.CertFile == "":
		return nil, errors.New("iothub: no credentials: a key, a token or an X.509 certificate")
	case (o.CertFile == "") != (o.KeyFile == ""):
		return nil, errors.New("iothub: cert_file and key_file must be set together")
	}
	d := &dialect{Options: o, billing: &billingMeter{}, tier: &tier{off: o.NoTwin, optedOut: o.NoTwin},
		metaIDs: &atomic.Uint64{}}
	d.applyDefaults()
	d.statusTopic = d.Identity.TelemetryTopic() + d.properties("status").Encode()
	return d, nil
}

func (d *dialect) applyDefaults() {
	if d.Host == "" {
		d.Host = d.Identity.HostName
	}
	if d.Port == 0 {
		d.Port = PortMQTT
		if d.WebSocket {
			d.Port = PortWebSocket
		}
	}
	if d.TokenLifetime <= 0 {
		d.TokenLifetime = DefaultTokenLifetime
	}
	if d.ReportInterval <= 0 {
		d.ReportInterval = DefaultReportInterval
	}
	if d.Output == "" {
		d.Output = DefaultOutput
	}
}

// Endpoint is the hub's broker URL and the identity's ClientId.
func (d *dialect) Endpoint() (*url.URL, string) { return d.brokerURL(), d.Identity.ClientID() }

// brokerURL is where paho connects.
func (d *dialect) brokerURL() *url.URL {
	hostPort := net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	if d.WebSocket {
		return &url.URL{Scheme: "wss", Host: hostPort, Path: webSocketPath}
	}
	return &url.URL{Scheme: "ssl", Host: hostPort}
}

// Topics returns the topic templates of readings and OEE records: the
// telemetry topic and a property bag that lets hub routing split messages
// by type, bridge and line without reading their bodies. The message id is
// appended per message (MessageTopic).
func (d *dialect) Topics() (readings, oee *wire.Topic) {
	return d.topic("telemetry"), d.topic("oee")
}

// EventTopic is the telemetry topic with type=event, so hub routing tells
// OPC UA events apart as it does OEE records.
func (d *dialect) EventTopic() *wire.Topic { return d.topic("event") }

// properties are the property bag of a message type, without the line.
func (d *dialect) properties(kind string) Properties {
	props := Properties{{"$.ct", "application/json"}, {"$.ce", "utf-8"}}
	if d.Identity.ModuleID != "" {
		props = append(props, [2]string{"$.on", d.Output})
	}
	return append(props, [2]string{"type", kind}, [2]string{"bridge", d.MQTT.BridgeID})
}

func (d *dialect) topic(kind string) *wire.Topic {
	props := append(d.properties(kind), [2]string{"line", ""})
	return wire.NewTopic(Escape, wire.TopicPart{Text: d.Identity.TelemetryTopic() + props.Encode()},
		wire.TopicPart{Field: wire.FieldLine})
}

// MessageTopic appends the message id: the bridge and the message's first
// seq, so a message resent unchanged keeps its id; a message without
// readings (first 0: pubsub-json metadata) gets an id of its own. It meters
// the message.
func (d *dialect) MessageTopic(topic string, first uint64, size int) string {
	id := strconv.FormatUint(first, 10)
	if first == 0 {
		id = "meta-" + strconv.FormatUint(d.metaIDs.Add(1), 10)
	}
	topic += "&$.mid=" + Escape(d.MQTT.BridgeID) + "-" + id
	d.billing.add(billableUnits(size, topic), time.Now())
	return topic
}

// Load reads the TLS files; it runs once when Run starts.
func (d *dialect) Load() error {
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	for _, f := range [][2]string{{d.CAFile, "iothub.ca_file"}, {d.EdgeCAFile, edgeModuleCACertificateFile}} {
		if f[0] == "" {
			continue
		}
		if err := mqtt.AppendPEMFile(roots, f[0], f[1]); err != nil {
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

// Credentials are a fresh token (the hub cannot re-authenticate a
// connection, so each connection gets one) and, for IoT Edge, the current
// trust bundle.
func (d *dialect) Credentials(ctx context.Context, now time.Time) (mqtt.Credentials, error) {
	c := mqtt.Credentials{Username: d.Identity.Username()}
	var err error
	if c.TLS, err = d.tlsConfig(ctx); err != nil {
		return c, err
	}
	c.Password, c.RenewAt, err = d.password(ctx, now)
	return c, err
}

// tlsConfig is the TLS configuration of one connection attempt. The hub
// is always verified; edgeHub with the runtime's trust bundle.
func (d *dialect) tlsConfig(ctx context.Context) (*tls.Config, error) {
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
func (d *dialect) password(ctx context.Context, now time.Time) (string, time.Time, error) {
	switch {
	case d.Signer != nil:
		expiry := now.Add(d.TokenLifetime)
		tok, err := Token(ctx, d.Signer, d.Identity.ResourceURI(), expiry)
		if err != nil {
			return "", time.Time{}, err
		}
		return tok, now.Add(time.Duration(renewFraction * float64(d.TokenLifetime))), nil
	case d.Token != "":
		if se, ok := TokenExpiry(d.Token); ok && !now.Before(se) {
			return "", time.Time{}, fmt.Errorf("the SharedAccessSignature of the connection string expired at %s; "+
				"put a new one there, or a SharedAccessKey so that the bridge mints its own", se.UTC().Format(time.RFC3339))
		}
		return d.Token, time.Time{}, nil
	}
	return "", time.Time{}, nil
}

// Session serves the hub's control traffic beside the telemetry (control.go).
func (d *dialect) Session(ctx context.Context, c mqtt.Conn) error {
	return newControl(d, c).run(ctx)
}

// billableUnits estimates what IoT Hub meters a message as: its size with
// properties in 4 KB units.
func billableUnits(payload int, topic string) uint64 {
	return uint64((payload + len(topic) + billingUnit - 1) / billingUnit)
}
