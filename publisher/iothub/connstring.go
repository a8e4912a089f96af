// Package iothub publishes to Azure IoT Hub and IoT Edge's edgeHub: a
// Dialect of the MQTT transport (publisher/mqtt), with its own Options
// (options.go), the control traffic of each connection (direct methods
// and the device twin, control.go), and the resolution of an identity from
// a connection string or the IoT Edge environment (resolve.go).
//
// It also holds the pieces of the hub's MQTT dialect that need no
// connection: connection strings, SAS tokens, the ClientId, Username and
// topics of devices and modules, the property bag of telemetry topics, and
// a client of IoT Edge's workload API. docs/iothub.md describes the dialect
// as the bridge speaks it.
package iothub

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ConnectionString is a parsed IoT Hub device or module connection string.
// Its String method hides the key and the token.
type ConnectionString struct {
	HostName        string // the hub, e.g. myhub.azure-devices.net
	DeviceID        string
	ModuleID        string // "" for a device
	GatewayHostName string // "" to connect to the hub itself
	// SharedAccessKey is the base64 key tokens are signed with; "" with a
	// ready token or X.509.
	SharedAccessKey string
	// SharedAccessSignature is a ready-made token; it cannot be renewed.
	SharedAccessSignature string
	// X509 selects client-certificate authentication.
	X509 bool
}

// connParts are the parts a connection string may have, as IoT Hub spells them.
var connParts = []string{"HostName", "DeviceId", "ModuleId", "GatewayHostName", "SharedAccessKey", "SharedAccessSignature", "x509"}

// ParseConnectionString parses "HostName=…;DeviceId=…;SharedAccessKey=…"
// with the optional parts IoT Hub defines. Errors name the part that is
// missing or bad and never contain a key or token.
func ParseConnectionString(s string) (ConnectionString, error) {
	var c ConnectionString
	seen := map[string]bool{}
	for field := range strings.SplitSeq(strings.TrimSpace(s), ";") {
		if strings.TrimSpace(field) == "" {
			continue
		}
		name, value, ok := strings.Cut(field, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return c, fmt.Errorf("connection string: part %s has no '=' (want Name=value parts separated by ';')", redactPart(name))
		}
		if !slices.Contains(connParts, name) {
			return c, fmt.Errorf("connection string: unknown part %s (valid: %s)", redactPart(name), strings.Join(connParts, ", "))
		}
		if seen[name] {
			return c, fmt.Errorf("connection string: %s given twice", name)
		}
		seen[name] = true
		if err := c.set(name, strings.TrimSpace(value)); err != nil {
			return c, err
		}
	}
	return c, c.check()
}

// redactPart quotes a part's name only when it looks like a name, so that
// a key pasted without "SharedAccessKey=" is never echoed.
func redactPart(name string) string {
	if len(name) > 32 || strings.IndexFunc(name, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) >= 0 {
		return "(not shown: it may be a secret)"
	}
	return name
}

func (c *ConnectionString) set(name, value string) error {
	switch name {
	case "HostName":
		c.HostName = value
	case "DeviceId":
		c.DeviceID = value
	case "ModuleId":
		c.ModuleID = value
	case "GatewayHostName":
		c.GatewayHostName = value
	case "SharedAccessKey":
		if _, err := base64.StdEncoding.DecodeString(value); err != nil || value == "" {
			return errors.New("connection string: SharedAccessKey is not valid base64 (copy it again from the portal)")
		}
		c.SharedAccessKey = value
	case "SharedAccessSignature":
		if !strings.HasPrefix(value, "SharedAccessSignature ") {
			return errors.New("connection string: SharedAccessSignature must start with \"SharedAccessSignature sr=\"")
		}
		c.SharedAccessSignature = value
	case "x509":
		switch strings.ToLower(value) {
		case "true":
			c.X509 = true
		case "false":
		default:
			return fmt.Errorf("connection string: x509=%q: want true or false", value)
		}
	}
	return nil
}

// check enforces the required parts and exactly one way to authenticate.
func (c ConnectionString) check() error {
	switch {
	case c.HostName == "":
		return errors.New("connection string: HostName is missing")
	case strings.ContainsAny(c.HostName, "/: "):
		return fmt.Errorf("connection string: HostName %q is not a host name", c.HostName)
	case c.DeviceID == "":
		return errors.New("connection string: DeviceId is missing")
	case strings.ContainsAny(c.DeviceID+c.ModuleID, "/#+ "):
		return errors.New("connection string: DeviceId and ModuleId may not contain '/', '#', '+' or spaces")
	}
	n := 0
	for _, set := range []bool{c.SharedAccessKey != "", c.SharedAccessSignature != "", c.X509} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return errors.New("connection string: no credentials (want SharedAccessKey, SharedAccessSignature or x509=true)")
	case n > 1:
		return errors.New("connection string: give one of SharedAccessKey, SharedAccessSignature and x509=true")
	}
	return nil
}

// Identity returns the hub identity the connection string names.
func (c ConnectionString) Identity() Identity {
	return Identity{HostName: c.HostName, DeviceID: c.DeviceID, ModuleID: c.ModuleID}
}

// String describes the connection string without its secrets.
func (c ConnectionString) String() string {
	auth := "SharedAccessKey"
	switch {
	case c.X509:
		auth = "x509"
	case c.SharedAccessSignature != "":
		auth = "SharedAccessSignature"
	}
	s := "HostName=" + c.HostName + ";DeviceId=" + c.DeviceID
	if c.ModuleID != "" {
		s += ";ModuleId=" + c.ModuleID
	}
	if c.GatewayHostName != "" {
		s += ";GatewayHostName=" + c.GatewayHostName
	}
	return s + ";" + auth + "=[redacted]"
}

// GoString hides the secrets from %#v too.
func (c ConnectionString) GoString() string { return c.String() }
