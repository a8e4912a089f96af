package mqtt

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"factorybridge"
	"factorybridge/publisher/wire"
)

// tlsSchemes are the broker URL schemes that use TLS.
var tlsSchemes = map[string]bool{"ssl": true, "tls": true, "wss": true}

// broker is the Dialect of a plain MQTT broker, configured by the Options.
type broker struct {
	url                       *url.URL
	clientID                  string
	readings, oee, events     *wire.Topic
	username                  string
	password                  factorybridge.Secret
	caFile, certFile, keyFile string
	insecure                  bool
	tls                       *tls.Config // read by Load; nil for plain brokers
	probeTopic                string
	// templates are the topic templates of readings, OEE records and
	// events, to compare with an update's.
	templates [3]string
}

var (
	_ Dialect   = (*broker)(nil)
	_ Prober    = (*broker)(nil)
	_ Updatable = (*broker)(nil)
)

// newBroker checks the plain broker's settings of o, whose defaults are applied.
func newBroker(o *Options) (*broker, error) {
	b := &broker{clientID: o.ClientID, username: o.Username, password: o.Password,
		caFile: o.CAFile, certFile: o.CertFile, keyFile: o.KeyFile, insecure: o.InsecureSkipVerify}
	var err error
	if b.url, err = parseBroker(o); err != nil {
		return nil, err
	}
	b.templates = [3]string{cmp.Or(o.Topic, DefaultTopic), cmp.Or(o.OEETopic, DefaultOEETopic), cmp.Or(o.EventTopic, DefaultEventTopic)}
	if b.readings, err = wire.ParseTopic(b.templates[0], o.BridgeID); err != nil {
		return nil, fmt.Errorf("mqtt.topic: %w", err)
	}
	if b.oee, err = wire.ParseTopic(b.templates[1], o.BridgeID); err != nil {
		return nil, fmt.Errorf("mqtt.oee_topic: %w", err)
	}
	if b.events, err = wire.ParseTopic(b.templates[2], o.BridgeID); err != nil {
		return nil, fmt.Errorf("mqtt.event_topic: %w", err)
	}
	if b.clientID == "" {
		b.clientID = "factorybridge-" + o.BridgeID
	}
	b.probeTopic = strings.ReplaceAll(cmp.Or(o.ProbeTopic, DefaultProbeTopic), "{bridge}", wire.SanitizeLevel(o.BridgeID))
	return b, nil
}

// parseBroker checks the broker URL and that TLS files come in usable sets.
func parseBroker(o *Options) (*url.URL, error) {
	u, err := url.Parse(o.Broker)
	if err != nil {
		return nil, fmt.Errorf("mqtt.broker: %w", err)
	}
	switch u.Scheme {
	case "tcp", "ssl", "tls", "ws", "wss":
	default:
		return nil, fmt.Errorf("mqtt.broker = %q: scheme must be tcp, ssl, tls, ws or wss", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("mqtt.broker = %q: no host", u.Redacted())
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("mqtt: cert_file and key_file must be set together")
	}
	if !tlsSchemes[u.Scheme] && (o.CAFile != "" || o.CertFile != "") {
		return nil, fmt.Errorf("mqtt: ca_file/cert_file set but broker scheme %q does not use TLS", u.Scheme)
	}
	return u, nil
}

// Endpoint is the configured broker and ClientId.
func (b *broker) Endpoint() (*url.URL, string) { return b.url, b.clientID }

// Topics are the configured templates.
func (b *broker) Topics() (readings, oee *wire.Topic) { return b.readings, b.oee }

// EventTopic is the configured template of events' topics.
func (b *broker) EventTopic() *wire.Topic { return b.events }

// Load reads the TLS files; none for plain brokers. Without a CA file the
// system roots verify the broker.
func (b *broker) Load() error {
	if !tlsSchemes[b.url.Scheme] {
		return nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: b.insecure}
	if b.caFile != "" {
		c.RootCAs = x509.NewCertPool()
		if err := AppendPEMFile(c.RootCAs, b.caFile, "mqtt.ca_file"); err != nil {
			return err
		}
	}
	if b.certFile != "" {
		cert, err := tls.LoadX509KeyPair(b.certFile, b.keyFile)
		if err != nil {
			return fmt.Errorf("load mqtt client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	b.tls = c
	return nil
}

// Credentials are the configured ones, the same for every connection.
func (b *broker) Credentials(context.Context, time.Time) (Credentials, error) {
	return Credentials{TLS: b.tls, Username: b.username, Password: b.password.Value()}, nil
}

// MessageTopic is the rendered topic: a plain broker needs nothing per message.
func (b *broker) MessageTopic(topic string, _ uint64, _ int) string { return topic }

// ProbeTopic is the configured topic of the delivery check.
func (b *broker) ProbeTopic() string { return b.probeTopic }

// Session has nothing to run beside the telemetry.
func (b *broker) Session(context.Context, Conn) error { return nil }

// Changes names the settings of the plain broker that differ in next; the
// broker, the ClientId, the credentials and TLS need a new connection, the
// topics do not (the probe topic is used from the next connection).
func (b *broker) Changes(next Dialect) ([]string, bool) {
	n, ok := next.(*broker)
	if !ok {
		return []string{"dialect"}, true
	}
	var c changeList
	c.add("broker", b.url.String() != n.url.String(), true)
	c.add("client_id", b.clientID != n.clientID, true)
	c.add("username", b.username != n.username, true)
	c.add("password", b.password != n.password, true)
	c.add("ca_file", b.caFile != n.caFile, true)
	c.add("cert_file", b.certFile != n.certFile, true)
	c.add("key_file", b.keyFile != n.keyFile, true)
	c.add("insecure_skip_verify", b.insecure != n.insecure, true)
	c.add("topic", b.templates[0] != n.templates[0], false)
	c.add("oee_topic", b.templates[1] != n.templates[1], false)
	c.add("event_topic", b.templates[2] != n.templates[2], false)
	c.add("probe_topic", b.probeTopic != n.probeTopic, false)
	return c.names, c.reconnect
}

// insecureTLS reports whether the broker's certificate goes unverified.
func (b *broker) insecureTLS() bool { return b.insecure && tlsSchemes[b.url.Scheme] }

// AppendPEMFile adds the PEM certificates of the file at path to pool;
// setting names the file in errors (e.g. "mqtt.ca_file"). Dialects load
// their CA files with it.
func AppendPEMFile(pool *x509.CertPool, path, setting string) error {
	pem, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", setting, err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("read %s %s: no PEM certificates", setting, path)
	}
	return nil
}
