package iothub

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultEdgeAPIVersion is the workload API version used when
// IOTEDGE_APIVERSION is not set.
const DefaultEdgeAPIVersion = "2018-06-28"

// AuthSchemeSASToken is the IOTEDGE_AUTHSCHEME the IoT Edge runtime sets
// for modules whose tokens the workload API signs, the only one supported.
const AuthSchemeSASToken = "sasToken"

// maxWorkloadResponse bounds what is read from the workload API.
const maxWorkloadResponse = 1 << 20

// Edge is a module's view of its IoT Edge runtime, from the IOTEDGE_*
// environment variables the runtime sets.
type Edge struct {
	WorkloadURI  string // unix:///var/run/iotedge/workload.sock or http://…
	HubHostName  string // IOTEDGE_IOTHUBHOSTNAME
	GatewayHost  string // IOTEDGE_GATEWAYHOSTNAME: edgeHub
	DeviceID     string
	ModuleID     string
	GenerationID string
	AuthScheme   string
	APIVersion   string
}

// edgeVars are the variables EdgeFromEnv needs, in the order it reports them missing.
var edgeVars = []string{"IOTEDGE_WORKLOADURI", "IOTEDGE_IOTHUBHOSTNAME", "IOTEDGE_GATEWAYHOSTNAME",
	"IOTEDGE_DEVICEID", "IOTEDGE_MODULEID", "IOTEDGE_MODULEGENERATIONID"}

// EdgeFromEnv reads the IOTEDGE_* variables through getenv. ok is false
// when none is set (not running as a module); err names the missing ones
// when only some are.
func EdgeFromEnv(getenv func(string) string) (e Edge, ok bool, err error) {
	var missing []string
	for _, v := range edgeVars {
		if getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) == len(edgeVars) {
		return e, false, nil
	}
	if len(missing) > 0 {
		return e, true, fmt.Errorf("IoT Edge environment incomplete: %s not set", strings.Join(missing, ", "))
	}
	e = Edge{
		WorkloadURI: getenv("IOTEDGE_WORKLOADURI"), HubHostName: getenv("IOTEDGE_IOTHUBHOSTNAME"),
		GatewayHost: getenv("IOTEDGE_GATEWAYHOSTNAME"), DeviceID: getenv("IOTEDGE_DEVICEID"),
		ModuleID: getenv("IOTEDGE_MODULEID"), GenerationID: getenv("IOTEDGE_MODULEGENERATIONID"),
		AuthScheme: getenv("IOTEDGE_AUTHSCHEME"), APIVersion: getenv("IOTEDGE_APIVERSION"),
	}
	if e.APIVersion == "" {
		e.APIVersion = DefaultEdgeAPIVersion
	}
	// edgeAgent sets "sasToken" (IdentityProviderServiceCredentials'
	// default); the C# and Node SDKs compare without case, older SDKs and
	// docs spell it "SasToken".
	if e.AuthScheme != "" && !strings.EqualFold(e.AuthScheme, AuthSchemeSASToken) {
		return e, true, fmt.Errorf("IOTEDGE_AUTHSCHEME=%q: only %s is supported", e.AuthScheme, AuthSchemeSASToken)
	}
	return e, true, nil
}

// Identity is the module's identity in its hub.
func (e Edge) Identity() Identity {
	return Identity{HostName: e.HubHostName, DeviceID: e.DeviceID, ModuleID: e.ModuleID}
}

// Workload is a client of the IoT Edge workload API. It signs tokens with
// the module's key, which stays with the runtime, and hands out the trust
// bundle that verifies edgeHub's certificate.
type Workload struct {
	edge   Edge
	base   string // URL prefix of requests
	client *http.Client
}

// NewWorkload makes a workload API client; it does no I/O.
func NewWorkload(e Edge) (*Workload, error) {
	u, err := url.Parse(e.WorkloadURI)
	if err != nil {
		return nil, fmt.Errorf("IOTEDGE_WORKLOADURI: %w", err)
	}
	w := &Workload{edge: e, client: &http.Client{Timeout: 10 * time.Second}}
	switch u.Scheme {
	case "unix":
		sock := u.Path
		w.base = "http://workload"
		w.client.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}
	case "http":
		w.base = strings.TrimSuffix(e.WorkloadURI, "/")
	default:
		return nil, fmt.Errorf("IOTEDGE_WORKLOADURI %q: want unix:// or http://", e.WorkloadURI)
	}
	return w, nil
}

// Sign asks the runtime for HMAC-SHA256(module key, data).
func (w *Workload) Sign(ctx context.Context, data []byte) ([]byte, error) {
	body, _ := json.Marshal(map[string]string{
		"keyId": "primary", "algo": "HMACSHA256", "data": base64.StdEncoding.EncodeToString(data)})
	path := fmt.Sprintf("/modules/%s/genid/%s/sign", url.PathEscape(w.edge.ModuleID), url.PathEscape(w.edge.GenerationID))
	var res struct {
		Digest string `json:"digest"`
	}
	if err := w.do(ctx, http.MethodPost, path, body, &res); err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(res.Digest)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("workload API sign: digest is not base64")
	}
	return sig, nil
}

// TrustBundle returns the PEM certificates that verify edgeHub.
func (w *Workload) TrustBundle(ctx context.Context) ([]byte, error) {
	var res struct {
		Certificate string `json:"certificate"`
	}
	if err := w.do(ctx, http.MethodGet, "/trust-bundle", nil, &res); err != nil {
		return nil, err
	}
	if res.Certificate == "" {
		return nil, fmt.Errorf("workload API trust-bundle: no certificate")
	}
	return []byte(res.Certificate), nil
}

func (w *Workload) do(ctx context.Context, method, path string, body []byte, out any) error {
	u := w.base + path + "?api-version=" + url.QueryEscape(w.edge.APIVersion)
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("workload API %s: %w", path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("workload API %s: %w", path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxWorkloadResponse))
	if err != nil {
		return fmt.Errorf("workload API %s: read response: %w", path, err)
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("workload API %s: %s: %s", path, res.Status, bytes.TrimSpace(data[:min(len(data), 200)]))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("workload API %s: decode response: %w", path, err)
	}
	return nil
}
