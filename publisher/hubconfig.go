package publisher

import (
	"errors"
	"fmt"

	"factorybridge/config"
	"factorybridge/publisher/iothub"
)

// edgeHubConnectionString is the variable IoT Edge may set for a module;
// when present it wins over the IOTEDGE_* variables.
const edgeHubConnectionString = "EdgeHubConnectionString"

// HubFromConfig builds a Hub from [iothub] and the environment (read
// through getenv): the configured connection string, or in module mode the
// IoT Edge runtime's variables. It does no I/O. The returned description
// names the identity and mode for the log, without secrets. Reporter and
// SetLogLevel are left for the caller.
func HubFromConfig(c config.IoTHub, getenv func(string) string) (Hub, string, error) {
	h := Hub{
		Port: c.Port, WebSocket: c.Transport == "websocket", TokenLifetime: c.TokenLifetime.D(),
		CAFile: c.CAFile, CertFile: c.CertFile, KeyFile: c.KeyFile, Output: c.Output,
		MaxMessagesPerSecond: c.MaxMessagesPerSecond, ReportInterval: c.ReportInterval.D(),
	}
	cs := c.ConnectionString.Value()
	if v := getenv(edgeHubConnectionString); v != "" && c.Edge != "off" {
		cs = v
	}
	edge, isModule, err := iothub.EdgeFromEnv(getenv)
	switch {
	case cs != "":
		return hubFromConnectionString(h, cs)
	case c.Edge == "off":
		return h, "", errors.New("iothub: no connection string (set connection_string_env or connection_string_file)")
	case !isModule:
		return h, "", errors.New("iothub: no connection string, and not running as an IoT Edge module (the IOTEDGE_* variables are not set)")
	case err != nil:
		return h, "", fmt.Errorf("iothub: %w", err)
	}
	return hubFromEdge(h, edge)
}

func hubFromConnectionString(h Hub, s string) (Hub, string, error) {
	cs, err := iothub.ParseConnectionString(s)
	if err != nil {
		return h, "", fmt.Errorf("iothub: %w", err)
	}
	h.Identity, h.Host = cs.Identity(), cs.GatewayHostName
	switch {
	case cs.SharedAccessKey != "":
		if h.Signer, err = iothub.NewKeySigner(cs.SharedAccessKey); err != nil {
			return h, "", fmt.Errorf("iothub: %w", err)
		}
	case cs.SharedAccessSignature != "":
		h.Token = cs.SharedAccessSignature
	case h.CertFile == "":
		return h, "", errors.New("iothub: the connection string says x509=true; set iothub.cert_file and iothub.key_file")
	}
	if !cs.X509 && h.CertFile != "" {
		return h, "", errors.New("iothub: cert_file is set but the connection string does not say x509=true")
	}
	return h, cs.String(), nil
}

func hubFromEdge(h Hub, e iothub.Edge) (Hub, string, error) {
	w, err := iothub.NewWorkload(e)
	if err != nil {
		return h, "", fmt.Errorf("iothub: %w", err)
	}
	if h.CertFile != "" {
		return h, "", errors.New("iothub: cert_file is not used in IoT Edge module mode (the workload API signs tokens)")
	}
	h.Identity, h.Host, h.Signer, h.TrustBundle = e.Identity(), e.GatewayHost, w, w.TrustBundle
	desc := fmt.Sprintf("IoT Edge module %s/%s via edgeHub %s (workload %s)", e.DeviceID, e.ModuleID, e.GatewayHost, e.WorkloadURI)
	return h, desc, nil
}
