package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"factorybridge/opcua"
	"factorybridge/pki"
	"factorybridge/publisher/mqtt"
	"factorybridge/publisher/wire"
)

// The valid values of the enumerated settings, in the order messages list them.
var (
	securityPolicies = opcua.SecurityPolicies
	securityModes    = opcua.SecurityModes
	authMethods      = opcua.AuthMethods
	brokerSchemes    = []string{"tcp", "ssl", "tls", "ws", "wss"}
	encodings        = wire.Encodings
	protocols        = mqtt.Protocols
	topicFields      = []string{"{bridge}", "{server}", "{line}", "{station}"}
)

// Bounds of the numeric settings. The publisher's are its packages'.
const (
	minBufferBytes     = 1 << 20
	minCommitInterval  = time.Millisecond
	maxCommitInterval  = 10 * time.Second
	minMessageBytes    = wire.MinMessageBytes
	maxMessageBytes    = mqtt.MaxMessageBytesLimit
	maxInflightMessage = mqtt.MaxInflightLimit
	maxClockSetting    = 24 * time.Hour // clock_skew_threshold, clock_check_interval: beyond any use
)

var bridgeIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Validate checks a configuration whose defaults have been applied. It
// returns *Errors naming each bad field, what is wrong with it and the valid
// values, or nil. It does no I/O and changes nothing.
func (c *Config) Validate() error {
	r := &reporter{file: c.File}
	c.validate(r)
	return r.err()
}

func (c *Config) validate(r *reporter) {
	v := checker{r}
	v.bridge(c.Bridge)
	v.buffer(c.Buffer)
	v.http(c.HTTP)
	if c.IoTHub != nil {
		v.iotHub(c.IoTHub, c.MQTT)
		v.hubIdentity(c)
		v.mqttPacking(c.MQTT)
	} else {
		v.mqtt(c.MQTT)
	}
	v.servers(c.Servers)
	v.lines(c)
	v.oee(c)
}

// checker holds the rules shared by the sections.
type checker struct{ r *reporter }

func (v checker) bridge(b Bridge) {
	const form = "letters, digits, '.', '_' and '-'"
	switch {
	case b.ID == "":
		v.r.add("bridge.id", "required (valid: %s)", form)
	case !bridgeIDPattern.MatchString(b.ID):
		v.r.add("bridge.id", "%q is not a valid id (valid: %s)", b.ID, form)
	}
	if b.Site != "" {
		v.name("bridge.site", b.Site)
	}
	v.required("bridge.data_dir", b.DataDir, "")
	v.required("bridge.pki_dir", b.PKIDir, "")
	if b.ApplicationURI != "" {
		if u, err := url.Parse(b.ApplicationURI); err != nil || u.Scheme == "" {
			v.r.add("bridge.application_uri", "%q is not a URI (valid: e.g. urn:<host>:factorybridge)", b.ApplicationURI)
		}
	}
}

func (v checker) buffer(b Buffer) {
	v.required("buffer.path", b.Path, "")
	if b.MaxBytes < minBufferBytes {
		v.r.add("buffer.max_bytes", "%d is too small (valid: %d (1 MiB) or more)", b.MaxBytes, minBufferBytes)
	}
	v.durationIn("buffer.commit_interval", b.CommitInterval, minCommitInterval, maxCommitInterval)
	v.atLeast("buffer.commit_max_readings", b.CommitMaxReadings, 1, "1 or more")
}

func (v checker) servers(servers []Server) {
	if len(servers) == 0 {
		v.r.add("servers", "at least one [[servers]] section is required")
	}
	seen := map[string]string{}
	for i, s := range servers {
		path := fmt.Sprintf("servers[%d]", i)
		if v.name(path+".name", s.Name) {
			v.unique(path+".name", s.Name, seen)
		}
		v.server(path, s)
	}
}

func (v checker) server(path string, s Server) {
	v.endpoint(path+".endpoint", s.Endpoint)
	v.security(path, s)
	if v.oneOf(path+".auth", s.Auth, "auth method", authMethods) {
		v.credentials(path, s)
	}
	v.pair(path, "certificate", s.Certificate, "key", s.Key)
	v.oneOf(path+".host_name_check", s.HostNameCheck, "host name check", pki.HostNameChecks)
	v.positive(path+".publishing_interval", s.PublishingInterval)
	v.notNegative(path+".sampling_interval", s.SamplingInterval)
	v.positive(path+".request_timeout", s.RequestTimeout)
	v.serverAcquisition(path, s)
	v.serverClock(path, s)
}

// serverClock checks the server's clock settings (docs/clocks.md).
func (v checker) serverClock(path string, s Server) {
	v.oneOf(path+".timestamps", s.Timestamps, "timestamp choice", opcua.TimestampChoices)
	v.oneOf(path+".clock_correction", s.ClockCorrection, "clock correction", opcua.ClockCorrections)
	v.durationIn(path+".clock_skew_threshold", s.ClockSkewThreshold, opcua.MinSkewThreshold, maxClockSetting)
	v.durationIn(path+".clock_check_interval", s.ClockCheckInterval, opcua.MinClockCheck, maxClockSetting)
}

// security checks the policy and mode and that they go together; auto
// leaves the choice (of either, or both) to the server's offer.
func (v checker) security(path string, s Server) {
	okPolicy := v.oneOf(path+".security_policy", s.SecurityPolicy, "security policy", securityPolicies)
	okMode := v.oneOf(path+".security_mode", s.SecurityMode, "security mode", securityModes)
	if !okPolicy || !okMode || s.SecurityPolicy == "auto" || s.SecurityMode == "auto" {
		return
	}
	if (s.SecurityPolicy == "None") != (s.SecurityMode == "None") {
		v.r.add(path+".security_mode", "%q does not go with security_policy %q (valid: None with None, Sign or SignAndEncrypt with any other policy)", s.SecurityMode, s.SecurityPolicy)
	}
}

func (v checker) endpoint(path, endpoint string) {
	const form = "opc.tcp://<host>:<port>[/<path>]"
	if !v.required(path, endpoint, form) {
		return
	}
	u, err := url.Parse(endpoint)
	switch {
	case err == nil && u.User != nil:
		v.r.add(path, noUserInfo, form)
	case err != nil || u.Scheme != "opc.tcp" || u.Hostname() == "" || !validPort(u.Port()):
		v.r.add(path, "%q is not an OPC UA endpoint (valid: %s)", endpoint, form)
	}
}

// noUserInfo reports a URL with user:password@, without repeating it.
const noUserInfo = "user name or password in the URL are not allowed (valid: %s, with username and password_env or password_file)"

// credentials checks the settings of the auth method: username auth needs
// a username and exactly one password source, certificate auth a user
// certificate and its key; each method's settings are refused with another.
func (v checker) credentials(path string, s Server) {
	v.onlyWith(path, s.Auth, "username", [][2]string{
		{"username", s.Username}, {"password_env", s.PasswordEnv}, {"password_file", s.PasswordFile}})
	v.onlyWith(path, s.Auth, "certificate", [][2]string{
		{"user_certificate", s.UserCertificate}, {"user_key", s.UserKey}})
	switch s.Auth {
	case "username":
		v.password(path, s)
	case "certificate":
		v.userCertificate(path, s)
	}
}

// onlyWith reports each of settings (key, value) that is set while auth is
// not method.
func (v checker) onlyWith(path, auth, method string, settings [][2]string) {
	if auth == method {
		return
	}
	for _, kv := range settings {
		if kv[1] != "" {
			v.r.add(path+"."+kv[0], "only used with auth = %q", method)
		}
	}
}

func (v checker) password(path string, s Server) {
	v.required(path+".username", s.Username, "")
	if s.SecurityMode == "None" && !s.AllowPlaintextPassword {
		v.r.add(path+".security_mode", "a password is never sent over a channel without encryption "+
			"(valid: security_mode = SignAndEncrypt, Sign or auto; or allow_plaintext_password = true on a network you trust)")
	}
	if s.PasswordEnv == "" && s.PasswordFile == "" {
		v.r.add(path+".password_env", "required with auth = \"username\" (valid: password_env or password_file)")
	}
	v.onePassword(path, s.PasswordEnv, s.PasswordFile)
}

// userCertificate checks that certificate auth names both of its files.
func (v checker) userCertificate(path string, s Server) {
	if s.UserCertificate == "" {
		v.r.add(path+".user_certificate", "required with auth = \"certificate\" (valid: path of the X.509 user certificate, PEM or DER)")
	}
	if s.UserKey == "" {
		v.r.add(path+".user_key", "required with auth = \"certificate\" (valid: path of the user certificate's RSA private key, PEM or DER, PKCS#1 or PKCS#8)")
	}
}

func (v checker) onePassword(path, env, file string) {
	if env != "" && file != "" {
		v.r.add(path+".password_file", "set only one of password_env and password_file")
	}
}

func (v checker) mqtt(m MQTT) {
	scheme := v.broker("mqtt.broker", m.Broker)
	v.required("mqtt.client_id", m.ClientID, "")
	v.topic("mqtt.topic", m.Topic)
	v.topic("mqtt.oee_topic", m.OEETopic)
	v.statusTopic(m)
	if m.OEETopic == m.Topic && m.Topic != "" {
		v.r.add("mqtt.oee_topic", "%q is also mqtt.topic (valid: a template of its own, so that OEE records and readings are told apart)", m.OEETopic)
	}
	v.eventTopic(m)
	if m.QoS != nil && *m.QoS != 0 && *m.QoS != 1 {
		v.r.add("mqtt.qos", "%d is not a supported QoS (valid: 0, 1)", *m.QoS)
	}
	if (m.PasswordEnv != "" || m.PasswordFile != "") && m.Username == "" {
		v.r.add("mqtt.username", "required with password_env or password_file")
	}
	v.onePassword("mqtt", m.PasswordEnv, m.PasswordFile)
	v.mqttPlaintext(m, scheme)
	v.pair("mqtt", "cert_file", m.CertFile, "key_file", m.KeyFile)
	if m.InsecureSkipVerify && (scheme == "tcp" || scheme == "ws") {
		v.r.add("mqtt.insecure_skip_verify", "set, but broker %q does not use TLS (valid: ssl://, tls:// or wss:// broker)", m.Broker)
	}
	for _, kv := range [][2]string{{"ca_file", m.CAFile}, {"cert_file", m.CertFile}} {
		if kv[1] != "" && (scheme == "tcp" || scheme == "ws") {
			v.r.add("mqtt."+kv[0], "set, but broker %q does not use TLS (valid: ssl://, tls:// or wss:// broker)", m.Broker)
		}
	}
	v.between("mqtt.max_message_bytes", m.MaxMessageBytes, minMessageBytes, maxMessageBytes,
		fmt.Sprintf("%d (%s) to %d (%s)", minMessageBytes, kib(minMessageBytes), maxMessageBytes, kib(maxMessageBytes)))
	v.mqttPacking(m)
	v.mqtt5(m)
}

// mqtt5 checks the protocol and the settings MQTT 5 and the delivery check use.
func (v checker) mqtt5(m MQTT) {
	v.oneOf("mqtt.protocol", m.Protocol, "protocol", protocols)
	v.durationIn("mqtt.session_expiry", m.SessionExpiry, time.Second, mqtt.MaxSessionExpiry)
	if !v.required("mqtt.probe_topic", m.ProbeTopic, "") {
		return
	}
	if strings.ContainsAny(m.ProbeTopic, "+#") {
		v.r.add("mqtt.probe_topic", "%q contains an MQTT wildcard (valid: no + or #)", m.ProbeTopic)
	}
	if strings.Contains(strings.ReplaceAll(m.ProbeTopic, "{bridge}", ""), "{") {
		v.r.add("mqtt.probe_topic", "%q has a placeholder other than {bridge} (valid: {bridge} only)", m.ProbeTopic)
	}
	if m.ProbeTopic == m.Topic || m.ProbeTopic == m.OEETopic {
		v.r.add("mqtt.probe_topic", "%q is also a topic of readings (valid: a topic of its own)", m.ProbeTopic)
	}
}

// mqttPlaintext refuses a broker password over a connection without TLS,
// as servers[].allow_plaintext_password does for OPC UA.
func (v checker) mqttPlaintext(m MQTT, scheme string) {
	if (m.PasswordEnv != "" || m.PasswordFile != "") && (scheme == "tcp" || scheme == "ws") && !m.AllowPlaintextPassword {
		v.r.add("mqtt.broker", "%q does not use TLS, and a password is never sent without it "+
			"(valid: ssl://, tls:// or wss:// broker; or allow_plaintext_password = true on a network you trust)", m.Broker)
	}
}

// mqttPacking checks the settings that tune packing and the connection,
// which [iothub] uses too.
func (v checker) mqttPacking(m MQTT) {
	v.between("mqtt.max_inflight", m.MaxInflight, 1, maxInflightMessage, fmt.Sprintf("1–%d", maxInflightMessage))
	v.oneOf("mqtt.encoding", m.Encoding, "encoding", encodings)
	v.positive("mqtt.max_batch_delay", m.MaxBatchDelay)
	v.positive("mqtt.cycle_grace", m.CycleGrace)
	v.positive("mqtt.keep_alive", m.KeepAlive)
	v.positive("mqtt.connect_timeout", m.ConnectTimeout)
}

// broker checks the broker URL and returns its scheme, or "" when it is not valid.
func (v checker) broker(path, broker string) string {
	const form = "tcp://<host>:<port>, ssl://…, tls://…, ws://<host>[:<port>][/<path>], wss://…"
	if !v.required(path, broker, form) {
		return ""
	}
	u, err := url.Parse(broker)
	switch {
	case err == nil && u.User != nil:
		v.r.add(path, noUserInfo, form)
	case err != nil || !slices.Contains(brokerSchemes, u.Scheme) || u.Hostname() == "":
		v.r.add(path, "%q is not an MQTT broker URL (valid: %s)", broker, form)
	case u.Port() != "" && !validPort(u.Port()) || u.Port() == "" && !strings.HasPrefix(u.Scheme, "ws"):
		v.r.add(path, "%q needs a port from 1 to 65535 (valid: %s)", broker, form)
	default:
		return u.Scheme
	}
	return ""
}

func (v checker) topic(path, topic string) {
	if !v.required(path, topic, "") {
		return
	}
	if strings.ContainsAny(topic, "+#") {
		v.r.add(path, "%q contains an MQTT wildcard (valid: no + or #)", topic)
	}
	rest := topic
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 || !slices.Contains(topicFields, rest[i:i+j+1]) {
			v.r.add(path, "%q has an unknown placeholder (valid: %s)", topic, strings.Join(topicFields, " "))
			return
		}
		rest = rest[i+j+1:]
	}
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// kib writes a size in bytes as KiB or, when whole, MiB: 1024 is "1 KiB".
func kib(n int) string {
	if n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n>>10) + " KiB"
}
