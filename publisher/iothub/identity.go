package iothub

import "strings"

// APIVersion is the IoT Hub MQTT API version put in every Username.
const APIVersion = "2021-04-12"

// Identity is a device or module registered in a hub.
type Identity struct {
	HostName string // the hub's host name, also behind a gateway
	DeviceID string
	ModuleID string // "" for a device
}

// ClientID is the MQTT ClientId the hub expects: {device} or {device}/{module}.
func (id Identity) ClientID() string {
	if id.ModuleID == "" {
		return id.DeviceID
	}
	return id.DeviceID + "/" + id.ModuleID
}

// Username is the MQTT Username the hub expects; it keeps the hub's host
// name when connecting through a gateway.
func (id Identity) Username() string {
	return id.HostName + "/" + id.ClientID() + "/?api-version=" + APIVersion
}

// ResourceURI is what a SAS token grants access to.
func (id Identity) ResourceURI() string {
	s := id.HostName + "/devices/" + id.DeviceID
	if id.ModuleID != "" {
		s += "/modules/" + id.ModuleID
	}
	return s
}

// TelemetryTopic is the topic prefix of device-to-cloud messages; the
// property bag follows it.
func (id Identity) TelemetryTopic() string {
	if id.ModuleID == "" {
		return "devices/" + id.DeviceID + "/messages/events/"
	}
	return "devices/" + id.DeviceID + "/modules/" + id.ModuleID + "/messages/events/"
}

// Properties is an ordered property bag; order is kept so topics are stable.
type Properties [][2]string

// Encode renders the bag in URL-query form, each name and value
// percent-encoded (upper-case hex, space as %20). System property names
// ("$.ct") keep their '$' and '.', which the hub needs to recognise them.
func (p Properties) Encode() string {
	var sb strings.Builder
	for i, kv := range p {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(EscapeName(kv[0]))
		sb.WriteByte('=')
		sb.WriteString(Escape(kv[1]))
	}
	return sb.String()
}

// EscapeName escapes a property name, keeping the "$." of system properties.
func EscapeName(name string) string {
	if rest, ok := strings.CutPrefix(name, "$."); ok {
		return "$." + Escape(rest)
	}
	return Escape(name)
}

// Escape percent-encodes everything but RFC 3986's unreserved characters.
func Escape(s string) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
