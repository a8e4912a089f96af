// Package config holds factorybridge's configuration schema: the TOML file an
// operator writes, its defaults, and its validation. Loading and validation do
// no network I/O; secrets named by *_env or *_file are resolved at load time
// so a missing variable or unreadable file is reported with the rest.
package config

import (
	"time"

	"factorybridge"
	"factorybridge/buffer"
	"factorybridge/opcua"
	"factorybridge/pki"
	"factorybridge/publisher/mqtt"
)

// Defaults, named beside the types they configure. Where a component has
// the same default, the constant is the component's.
const (
	DefaultDataDir            = "/var/lib/factorybridge"
	DefaultBufferFile         = "buffer.db"
	DefaultPKIDir             = "pki"                  // under data_dir
	DefaultBufferMaxBytes     = buffer.DefaultMaxBytes // 1 GiB
	DefaultCommitInterval     = buffer.DefaultCommitInterval
	DefaultCommitMaxReadings  = buffer.DefaultCommitMaxReadings
	DefaultPublishingInterval = opcua.DefaultPublishingInterval
	DefaultSamplingInterval   = 500 * time.Millisecond // opcua's zero is "as fast as the server can"
	DefaultQueueSize          = opcua.DefaultQueueSize
	DefaultRequestTimeout     = opcua.DefaultRequestTimeout
	DefaultSecurityPolicy     = "None"
	DefaultSecurityMode       = "None"
	DefaultAuth               = "anonymous"
	DefaultTopic              = mqtt.DefaultTopic
	DefaultOEETopic           = mqtt.DefaultOEETopic
	DefaultEventTopic         = mqtt.DefaultEventTopic
	DefaultQoS                = mqtt.DefaultQoS
	DefaultMaxMessageBytes    = mqtt.DefaultMaxMessageBytes
	DefaultMaxBatchDelay      = mqtt.DefaultMaxBatchDelay
	DefaultCycleGrace         = mqtt.DefaultCycleGrace
	DefaultMaxInflight        = mqtt.DefaultMaxInflight
	DefaultKeepAlive          = mqtt.DefaultKeepAlive
	DefaultConnectTimeout     = mqtt.DefaultConnectTimeout
	DefaultEncoding           = mqtt.DefaultEncoding
	DefaultProtocol           = mqtt.DefaultProtocol
	DefaultSessionExpiry      = mqtt.DefaultSessionExpiry
	DefaultProbeTopic         = mqtt.DefaultProbeTopic
	DefaultTrigger            = opcua.DefaultTrigger
	DefaultHostNameCheck      = pki.HostNameRefuse
	DefaultTimestamps         = opcua.TimestampsSource
	DefaultClockCorrection    = opcua.CorrectionAuto
	DefaultClockSkewThreshold = opcua.DefaultSkewThreshold
	DefaultClockCheckInterval = opcua.DefaultClockCheck
)

// Config is one factorybridge configuration file.
type Config struct {
	Bridge Bridge `toml:"bridge"`
	Buffer Buffer `toml:"buffer"`
	MQTT   MQTT   `toml:"mqtt"`
	// IoTHub, when present, publishes to Azure IoT Hub or IoT Edge in
	// place of [mqtt]'s broker.
	IoTHub *IoTHub `toml:"iothub"`
	// HTTP is the status page, metrics and health endpoint (http.go).
	HTTP    HTTP     `toml:"http"`
	Servers []Server `toml:"servers"`
	Lines   []Line   `toml:"lines"`
	// Calendars are shift calendars that lines' OEE refers to by name.
	Calendars []Calendar `toml:"calendars"`
	// Templates are station models that stations instantiate (Template).
	Templates []Template `toml:"templates"`

	// File is the path the configuration was loaded from ("" when built in code).
	File string `toml:"-"`
}

// Bridge identifies this bridge instance.
type Bridge struct {
	// ID names the bridge in MQTT client ids and in every message. Required;
	// letters, digits, '-', '_' and '.'.
	ID string `toml:"id"`
	// Site, when set, is the first segment of every reading's name
	// (site/line/station/node).
	Site string `toml:"site"`
	// DataDir holds the buffer file and other state. Default DefaultDataDir.
	DataDir string `toml:"data_dir"`
	// PKIDir holds the OPC UA certificates in OPC UA's layout (own/,
	// trusted/, rejected/, issuers/). Default <data_dir>/pki.
	PKIDir string `toml:"pki_dir"`
	// ApplicationURI is the bridge's OPC UA application URI, written into
	// the certificate it generates. Empty means urn:<hostname>:factorybridge,
	// resolved when the certificate is made (config does no I/O).
	ApplicationURI string `toml:"application_uri"`
	// AllowMissingCRL accepts a server certificate an issuer of which has no
	// current CRL in <pki_dir>/trusted/crl or issuers/crl, with a WARN. Off
	// by default: without the CRL a revoked certificate cannot be told.
	AllowMissingCRL bool `toml:"allow_missing_crl"`
}

// Buffer configures the bbolt store-and-forward buffer.
type Buffer struct {
	// Path of the bbolt file; default <data_dir>/buffer.db.
	Path string `toml:"path"`
	// MaxBytes caps the encoded size of unacknowledged readings; when full,
	// the oldest are dropped and counted. Default 1 GiB.
	MaxBytes int64 `toml:"max_bytes"`
	// CommitInterval is the longest a reading waits for its group commit.
	CommitInterval Duration `toml:"commit_interval"`
	// CommitMaxReadings commits early once this many readings are pending.
	CommitMaxReadings int `toml:"commit_max_readings"`
}

// MQTT configures the publisher's broker connection and message packing.
type MQTT struct {
	// Broker URL: tcp://, ssl://, tls://, ws:// or wss://host:port. Required.
	Broker string `toml:"broker"`
	// ClientID defaults to "factorybridge-<bridge.id>".
	ClientID string `toml:"client_id"`
	// Topic is a template; {bridge}, {server}, {line} and {station} are
	// replaced per message. Default DefaultTopic.
	Topic string `toml:"topic"`
	// OEETopic is the template of OEE record messages, with the same
	// placeholders ({station} is empty for a line's records); it must differ
	// from Topic. Default DefaultOEETopic.
	OEETopic string `toml:"oee_topic"`
	// StatusTopic is the retained presence topic ({bridge} only, or
	// "off"); see http.go. Default DefaultStatusTopic.
	StatusTopic string `toml:"status_topic"`
	// EventTopic is the template of event messages, with the same
	// placeholders; it must differ from Topic and OEETopic. Default
	// DefaultEventTopic.
	EventTopic string `toml:"event_topic"`
	// QoS is 0 or 1 (default 1). With 0 readings are deleted on send.
	QoS *int `toml:"qos"`
	// Username and the password source (env var or file, never inline).
	Username     string `toml:"username"`
	PasswordEnv  string `toml:"password_env"`
	PasswordFile string `toml:"password_file"`
	// TLS: CA bundle to verify the broker, client certificate and key.
	// Without ca_file the system's roots verify the broker.
	CAFile   string `toml:"ca_file"`
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// InsecureSkipVerify accepts any broker certificate. For tests only: it
	// logs a WARN on every connect. False by default.
	InsecureSkipVerify bool `toml:"insecure_skip_verify"`
	// AllowPlaintextPassword lets a password go to a tcp:// or ws://
	// broker, without TLS. Off by default: only for a network the operator
	// trusts completely.
	AllowPlaintextPassword bool `toml:"allow_plaintext_password"`
	// MaxMessageBytes caps one MQTT payload. Default 256 KiB.
	MaxMessageBytes int `toml:"max_message_bytes"`
	// MaxBatchDelay is the longest a reading waits to be packed after the
	// publisher read it: an upper bound on the wait CycleGrace sets.
	// Default 1 s.
	MaxBatchDelay Duration `toml:"max_batch_delay"`
	// CycleGrace is how long after a reading's publishing cycle ended (its
	// timestamp plus its server's publishing_interval) its message waits
	// for the rest of the cycle's readings (docs/message-format.md,
	// "Batching"). Default 150 ms.
	CycleGrace Duration `toml:"cycle_grace"`
	// MaxInflight bounds messages sent and not yet acknowledged.
	MaxInflight int `toml:"max_inflight"`
	// Encoding is "compact" (default), "flat" (one object per reading) or
	// "pubsub-json" (OPC UA PubSub JSON, OPC 10000-14).
	Encoding string `toml:"encoding"`
	// KeepAlive and ConnectTimeout of the MQTT connection.
	KeepAlive      Duration `toml:"keep_alive"`
	ConnectTimeout Duration `toml:"connect_timeout"`
	// Protocol is "auto" (default: MQTT 5, or 3.1.1 when the broker
	// refuses 5), "5" or "3.1.1" (docs/brokers.md).
	Protocol string `toml:"protocol"`
	// SessionExpiry is how long an MQTT 5 broker keeps the session after
	// a connection broke, so the next one resumes the messages in flight.
	// Default 10 minutes.
	SessionExpiry Duration `toml:"session_expiry"`
	// ProbeTopic is the topic of the delivery check ({bridge} is
	// replaced); the broker must let the bridge publish and subscribe to
	// it. Default DefaultProbeTopic.
	ProbeTopic string `toml:"probe_topic"`

	// Password is resolved from PasswordEnv or PasswordFile at load time.
	Password Secret `toml:"-"`
}

// Server is one OPC UA server (one session).
type Server struct {
	// Name is how logs, readings and stations refer to the server. Required, unique.
	Name string `toml:"name"`
	// Endpoint is the server's opc.tcp:// URL. Required.
	Endpoint string `toml:"endpoint"`
	// SecurityPolicy: None, Basic128Rsa15, Basic256, Basic256Sha256,
	// Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, or auto (the strongest
	// the server offers). Default None.
	SecurityPolicy string `toml:"security_policy"`
	// SecurityMode: None, Sign, SignAndEncrypt, or auto (with policy auto).
	// Default None.
	SecurityMode string `toml:"security_mode"`
	// Auth: "anonymous" (default), "username" or "certificate".
	Auth         string `toml:"auth"`
	Username     string `toml:"username"`
	PasswordEnv  string `toml:"password_env"`
	PasswordFile string `toml:"password_file"`
	// UserCertificate and UserKey: with auth = "certificate", the X.509 user
	// certificate (PEM or DER) the session is activated with, and its RSA
	// private key (PEM or DER, PKCS#1 or PKCS#8), which signs the server's
	// nonce and is never sent. A user identity the server grants rights to,
	// not the application certificate (certificate, key). Both required
	// with auth = "certificate"; read when the bridge starts and at every
	// connection attempt.
	UserCertificate string `toml:"user_certificate"`
	UserKey         string `toml:"user_key"`
	// Certificate and Key: the client's application instance certificate
	// (PEM or DER; key PKCS#1 or PKCS#8). Empty means the bridge's own
	// certificate in <pki_dir>/own, generated on first use.
	Certificate string `toml:"certificate"`
	Key         string `toml:"key"`
	// TrustOnFirstUse pins, for this server only, the first valid
	// certificate it presents while none is trusted or pinned for it (with
	// a loud WARN); no other certificate is trusted that way afterwards.
	// For commissioning only; false by default.
	TrustOnFirstUse bool `toml:"trust_on_first_use"`
	// HostNameCheck is what a server certificate that does not name the
	// endpoint's host gets: "refuse" (default) or "warn".
	HostNameCheck string `toml:"host_name_check"`
	// AllowPlaintextPassword lets auth = "username" send the password over a
	// channel with security mode None. Off by default: only for a network
	// the operator trusts completely.
	AllowPlaintextPassword bool `toml:"allow_plaintext_password"`
	// PublishingInterval is the default for subscriptions (default 1 s).
	PublishingInterval Duration `toml:"publishing_interval"`
	// SamplingInterval and QueueSize are defaults for this server's nodes.
	SamplingInterval Duration `toml:"sampling_interval"`
	QueueSize        uint32   `toml:"queue_size"`
	// RequestTimeout bounds every service call (default 10 s).
	RequestTimeout Duration `toml:"request_timeout"`
	// Acquisition defaults of the server's nodes and the bounds of its
	// backfill (config/acquisition.go, docs/acquisition.md).
	Mode              string   `toml:"mode"`
	ReadInterval      Duration `toml:"read_interval"`
	ReadReport        string   `toml:"read_report"`
	HeartbeatInterval Duration `toml:"heartbeat_interval"`
	SkipFirst         bool     `toml:"skip_first"`
	Backfill          bool     `toml:"backfill"`
	BackfillMaxValues int      `toml:"backfill_max_values"`
	BackfillMaxAge    Duration `toml:"backfill_max_age"`
	BackfillTimeout   Duration `toml:"backfill_timeout"`
	// Timestamps is which timestamp places a reading in time for OEE:
	// "source" (default, the PLC's), "server", or "bridge" (the time the
	// bridge received it). docs/clocks.md.
	Timestamps string `toml:"timestamps"`
	// ClockCorrection: "auto" (default) moves the chosen timestamps onto
	// the bridge's clock by the server's measured clock offset; "off" keeps
	// them as sent. Messages carry the server's timestamps either way.
	ClockCorrection string `toml:"clock_correction"`
	// ClockSkewThreshold is the clock offset the bridge warns about, and the
	// least change it warns about again or takes for a step of the server's
	// clock (default 30 s).
	ClockSkewThreshold Duration `toml:"clock_skew_threshold"`
	// ClockCheckInterval is how often the server's clock is measured while
	// connected (default 5 min); it is measured at every connect too.
	ClockCheckInterval Duration `toml:"clock_check_interval"`

	// Password is resolved from PasswordEnv or PasswordFile at load time.
	Password Secret `toml:"-"`

	// samplingSet records that the file wrote sampling_interval, so that an
	// explicit "0s" (as fast as the server can) survives ApplyDefaults.
	samplingSet bool
}

// Line is a production line: a sequence of stations.
type Line struct {
	Name     string    `toml:"name"`
	Stations []Station `toml:"stations"`
	// OEE configures the line's OEE; nil when none of its stations has OEE.
	OEE *LineOEE `toml:"oee"`
}

// Station is one machine of a line; its nodes live on one server.
type Station struct {
	Name string `toml:"name"`
	// Server names the [[servers]] entry; may be omitted when there is one server.
	Server string `toml:"server"`
	// Template names the [[templates]] entry the station is an instance
	// of; "" for none. Load has already merged its nodes and OEE into
	// Nodes and OEE.
	Template string `toml:"template"`
	// Vars are the values of the template's own placeholders: {key} is
	// replaced by Vars[key]. Only with Template.
	Vars map[string]string `toml:"vars"`
	// Omit names template nodes the station does not have. Only with Template.
	Omit  []string `toml:"omit"`
	Nodes []Node   `toml:"nodes"`
	// Events are the OPC UA events the station publishes; nil for none.
	Events *StationEvents `toml:"events"`
	// OEE maps the station's nodes to OEE roles; nil computes no OEE.
	OEE *StationOEE `toml:"oee"`
}

// Node is one OPC UA variable to subscribe to.
type Node struct {
	// Name is the last segment of the reading's name.
	Name string `toml:"name"`
	// ID: ns=<idx>;s=<string>, ns=<idx>;i=<number>, ns=<idx>;g=<guid>,
	// ns=<idx>;b=<base64>, or nsu=<namespace URI>;… resolved at connect time.
	// Exactly one of ID and Path.
	ID string `toml:"id"`
	// Path is the node's browse path from the Root folder,
	// "Objects/FactoryLine/assembly/Status" (opcua.BrowsePath has the
	// syntax), resolved at every connect. Exactly one of ID and Path.
	Path string `toml:"path"`
	// Per-node overrides; zero means the server's default.
	PublishingInterval Duration `toml:"publishing_interval"`
	SamplingInterval   Duration `toml:"sampling_interval"`
	QueueSize          uint32   `toml:"queue_size"`
	// Trigger: "status", "status_value" (default) or "status_value_timestamp".
	Trigger string `toml:"trigger"`
	// Deadband: "" or "none", "absolute", "percent"; DeadbandValue its size.
	Deadband      string  `toml:"deadband"`
	DeadbandValue float64 `toml:"deadband_value"`
	// Acquisition overrides of the server's defaults (config/acquisition.go);
	// zero or nil means the server's. heartbeat_interval = "0s" turns the
	// server's heartbeat off for this node.
	Mode              string    `toml:"mode"`
	ReadInterval      Duration  `toml:"read_interval"`
	ReadReport        string    `toml:"read_report"`
	HeartbeatInterval *Duration `toml:"heartbeat_interval"`
	SkipFirst         *bool     `toml:"skip_first"`
	Backfill          *bool     `toml:"backfill"`
}

// Secret is a string that never prints itself (factorybridge.Secret); the
// configuration resolves it from *_env or *_file settings.
type Secret = factorybridge.Secret

// Duration is a time.Duration written in TOML as a string ("20ms", "1s").
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// String formats the duration as Go does ("1.5s"), so configs print readably.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }
