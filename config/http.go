package config

import (
	"net"
	"strings"
)

// Defaults of [http] and of the MQTT status topic.
const (
	// DefaultHTTPListen serves the status page and metrics on loopback
	// only: they carry no secret but have no authentication either, so
	// exposing them is the operator's choice (listen = "0.0.0.0:9880").
	DefaultHTTPListen = "127.0.0.1:9880"
	// DefaultStatusTopic is the retained topic of the bridge's presence
	// (online with its version, offline by its last will).
	DefaultStatusTopic = "factorybridge/{bridge}/status"
	// Off, as http.listen or mqtt.status_topic, turns the feature off.
	Off = "off"
)

// HTTP configures the bridge's HTTP endpoint: the status page at /,
// /metrics (Prometheus), /healthz, /readyz and /api/status.
type HTTP struct {
	// Listen is the host:port served. Default DefaultHTTPListen; "off"
	// serves nothing; port 0 picks a free port (logged).
	Listen string `toml:"listen"`
}

func (h *HTTP) applyDefaults() { setDefault(&h.Listen, DefaultHTTPListen) }

// HTTPListen is the address the HTTP endpoint listens on, or "" when it is off.
func (c *Config) HTTPListen() string {
	if c.HTTP.Listen == Off {
		return ""
	}
	return c.HTTP.Listen
}

// StatusTopic is the topic of the bridge's retained presence message, with
// {bridge} replaced, or "" when it is off or the bridge publishes to IoT Hub
// (which has neither retained messages nor a last will).
func (c *Config) StatusTopic() string {
	if c.IoTHub != nil || c.MQTT.StatusTopic == Off {
		return ""
	}
	return strings.ReplaceAll(c.MQTT.StatusTopic, "{bridge}", c.Bridge.ID)
}

func (v checker) http(h HTTP) {
	if h.Listen == Off {
		return
	}
	const form = `host:port, e.g. "127.0.0.1:9880" or "0.0.0.0:9880", or "off"`
	_, port, err := net.SplitHostPort(h.Listen)
	if err != nil || (port != "0" && !validPort(port)) {
		v.r.add("http.listen", "%q is not an address to listen on (valid: %s)", h.Listen, form)
	}
}

// statusTopic checks mqtt.status_topic: a topic of its own, with no
// placeholder but {bridge}: it is one topic per bridge.
func (v checker) statusTopic(m MQTT) {
	t := m.StatusTopic
	if t == Off {
		return
	}
	switch rest := strings.ReplaceAll(t, "{bridge}", ""); {
	case strings.ContainsAny(t, "+#"):
		v.r.add("mqtt.status_topic", "%q contains an MQTT wildcard (valid: no + or #)", t)
	case strings.ContainsAny(rest, "{}"):
		v.r.add("mqtt.status_topic", "%q has a placeholder other than {bridge} (valid: a topic with {bridge} or none, or \"off\")", t)
	case t == m.Topic || t == m.OEETopic:
		v.r.add("mqtt.status_topic", "%q is also a topic of readings or OEE records (valid: a topic of its own)", t)
	}
}
