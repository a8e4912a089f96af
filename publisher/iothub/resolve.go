package iothub

import (
	"errors"
	"fmt"

	"factorybridge"
)

// Edge modes: whether the identity may come from the IoT Edge runtime.
const (
	// EdgeAuto runs as an IoT Edge module when the IOTEDGE_* variables are
	// set and no connection string is given.
	EdgeAuto = "auto"
	// EdgeOn requires the IoT Edge runtime.
	EdgeOn = "on"
	// EdgeOff never uses it.
	EdgeOff = "off"
)

// Variables IoT Edge may set for a module instead of the IOTEDGE_* ones:
// a connection string (which wins over them) and, with it, the file of the
// CA that verifies edgeHub (the Azure IoT C, C# and Node SDKs read the
// same pair).
const (
	edgeHubConnectionString     = "EdgeHubConnectionString"
	edgeModuleCACertificateFile = "EdgeModuleCACertificateFile"
)

// Resolve sets o's identity and credentials (Identity, Host, Signer or
// Token, TrustBundle, EdgeCAFile) from the connection string connString,
// or, in module mode, from the IoT Edge runtime's variables read through
// getenv; edge is
// EdgeAuto, EdgeOn or EdgeOff. It checks o's CertFile against the way the
// identity authenticates. It does no I/O. The returned description names
// the identity and mode for the log, without secrets.
func (o *Options) Resolve(connString factorybridge.Secret, edge string, getenv func(string) string) (string, error) {
	cs := connString.Value()
	if v := getenv(edgeHubConnectionString); v != "" && edge != EdgeOff {
		cs, o.EdgeCAFile = v, getenv(edgeModuleCACertificateFile)
	}
	e, isModule, err := EdgeFromEnv(getenv)
	switch {
	case cs != "":
		return o.fromConnectionString(cs)
	case edge == EdgeOff:
		return "", errors.New("iothub: no connection string (set connection_string_env or connection_string_file)")
	case !isModule:
		return "", errors.New("iothub: no connection string, and not running as an IoT Edge module (the IOTEDGE_* variables are not set)")
	case err != nil:
		return "", fmt.Errorf("iothub: %w", err)
	}
	return o.fromEdge(e)
}

func (o *Options) fromConnectionString(s string) (string, error) {
	cs, err := ParseConnectionString(s)
	if err != nil {
		return "", fmt.Errorf("iothub: %w", err)
	}
	o.Identity, o.Host = cs.Identity(), cs.GatewayHostName
	switch {
	case cs.SharedAccessKey != "":
		if o.Signer, err = NewKeySigner(cs.SharedAccessKey); err != nil {
			return "", fmt.Errorf("iothub: %w", err)
		}
	case cs.SharedAccessSignature != "":
		o.Token = cs.SharedAccessSignature
	case o.CertFile == "":
		return "", errors.New("iothub: the connection string says x509=true; set iothub.cert_file and iothub.key_file")
	}
	if !cs.X509 && o.CertFile != "" {
		return "", errors.New("iothub: cert_file is set but the connection string does not say x509=true")
	}
	if o.EdgeCAFile != "" {
		return cs.String() + " (edgeHub verified with " + edgeModuleCACertificateFile + " " + o.EdgeCAFile + ")", nil
	}
	return cs.String(), nil
}

func (o *Options) fromEdge(e Edge) (string, error) {
	w, err := NewWorkload(e)
	if err != nil {
		return "", fmt.Errorf("iothub: %w", err)
	}
	if o.CertFile != "" {
		return "", errors.New("iothub: cert_file is not used in IoT Edge module mode (the workload API signs tokens)")
	}
	o.Identity, o.Host, o.Signer, o.TrustBundle = e.Identity(), e.GatewayHost, w, w.TrustBundle
	desc := fmt.Sprintf("IoT Edge module %s/%s via edgeHub %s (workload %s)", e.DeviceID, e.ModuleID, e.GatewayHost, e.WorkloadURI)
	return desc, nil
}
