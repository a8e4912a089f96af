package hubsim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// EdgeAPIVersion is the IOTEDGE_APIVERSION a module sees.
const EdgeAPIVersion = "2018-06-28"

// AuthScheme is the IOTEDGE_AUTHSCHEME edgeAgent sets: "sasToken", in this
// spelling (the Azure IoT C SDK compares it case-sensitively).
const AuthScheme = "sasToken"

// GatewayHostName is IOTEDGE_GATEWAYHOSTNAME: the name in the hub
// stand-in's TLS certificate. Its port is Hub.Port, not 8883.
const GatewayHostName = "localhost"

// maxSocketPath is below the smallest sun_path limit (104 bytes on macOS).
const maxSocketPath = 100

// WorkloadOptions configures a Workload.
type WorkloadOptions struct {
	// Hub is required: its module keys sign, its CA is the trust bundle.
	Hub *Hub
}

// Workload is an IoT Edge workload API stand-in on a unix socket: it signs
// with module keys (POST /modules/{id}/genid/{gen}/sign) and serves the
// trust bundle (GET /trust-bundle).
type Workload struct {
	hub    *Hub
	sock   string
	srv    *http.Server
	served chan struct{}

	mu      sync.Mutex
	modules map[string]edgeModule // by module ID
	signs   int
}

// edgeModule is a module the workload knows, as edged would from its
// deployment.
type edgeModule struct{ deviceID, genID string }

// StartWorkload serves the workload API until the test ends.
func StartWorkload(t testing.TB, opts WorkloadOptions) *Workload {
	t.Helper()
	if opts.Hub == nil {
		t.Fatal("hubsim: StartWorkload needs WorkloadOptions.Hub")
	}
	w := &Workload{hub: opts.Hub, served: make(chan struct{}), modules: map[string]edgeModule{}}
	w.sock = socketPath(t)
	ln, err := net.Listen("unix", w.sock)
	if err != nil {
		t.Fatalf("hubsim: listen on workload socket: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /modules/{module}/genid/{gen}/sign", w.sign)
	mux.HandleFunc("GET /trust-bundle", w.trustBundle)
	w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(w.served)
		_ = w.srv.Serve(ln)
	}()
	t.Cleanup(w.stop)
	return w
}

// socketPath is workload.sock in t.TempDir(), or in a shorter temporary
// directory when a long test name would overflow the socket path limit.
func socketPath(t testing.TB) string {
	p := filepath.Join(t.TempDir(), "workload.sock")
	if len(p) <= maxSocketPath {
		return p
	}
	dir, err := os.MkdirTemp("", "hubsim")
	if err != nil {
		t.Fatalf("hubsim: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return filepath.Join(dir, "workload.sock")
}

func (w *Workload) stop() {
	_ = w.srv.Close()
	<-w.served
}

// URI is IOTEDGE_WORKLOADURI: unix:// and the socket's path.
func (w *Workload) URI() string { return "unix://" + w.sock }

// SignCalls is the number of signatures the workload made.
func (w *Workload) SignCalls() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.signs
}

// Env returns the variables IoT Edge gives module moduleID of edge device
// deviceID, exactly those edgeAgent sets in docker mode (Azure/iotedge,
// edge-agent Microsoft.Azure.Devices.Edge.Agent.Edgelet/Commands/
// CreateOrUpdateCommand.cs, GetEnvVars: the workload URI, auth scheme and
// generation id of IdentityProviderServiceCredentials, whose
// DefaultAuthScheme is "sasToken", the hub and gateway host names, the
// device and module ids, RuntimeLogLevel, and the edgelet's API version;
// UpstreamProtocol only when configured, so not here). It registers the
// module on the hub if needed (and with the workload, under a new
// generation ID, the first time).
func (w *Workload) Env(deviceID, moduleID string) map[string]string {
	w.hub.t.Helper()
	if _, ok := w.hub.sasKeyOf(identityKey{deviceID, moduleID}); !ok {
		w.hub.AddModule(deviceID, moduleID)
	}
	w.mu.Lock()
	m, ok := w.modules[moduleID]
	if !ok || m.deviceID != deviceID {
		m = edgeModule{deviceID: deviceID, genID: generationID()}
		w.modules[moduleID] = m
	}
	w.mu.Unlock()
	return map[string]string{
		"IOTEDGE_WORKLOADURI":        w.URI(),
		"IOTEDGE_AUTHSCHEME":         AuthScheme,
		"IOTEDGE_MODULEGENERATIONID": m.genID,
		"IOTEDGE_IOTHUBHOSTNAME":     w.hub.HostName(),
		"IOTEDGE_GATEWAYHOSTNAME":    GatewayHostName,
		"IOTEDGE_DEVICEID":           deviceID,
		"IOTEDGE_MODULEID":           moduleID,
		"RuntimeLogLevel":            "Information",
		"IOTEDGE_APIVERSION":         EdgeAPIVersion,
	}
}

// ConnectionStringEnv returns the other way IoT Edge may configure a
// module (and the Azure IoT SDKs read): EdgeHubConnectionString, with
// GatewayHostName the stand-in's name, and EdgeModuleCACertificateFile, the
// CA that verifies it. It registers the module on the hub if needed.
func (w *Workload) ConnectionStringEnv(deviceID, moduleID string) map[string]string {
	w.hub.t.Helper()
	key, ok := w.hub.sasKeyOf(identityKey{deviceID, moduleID})
	k := base64.StdEncoding.EncodeToString(key)
	if !ok {
		k = w.hub.AddModule(deviceID, moduleID)
	}
	cs := fmt.Sprintf("HostName=%s;DeviceId=%s;ModuleId=%s;GatewayHostName=%s;SharedAccessKey=%s",
		w.hub.HostName(), deviceID, moduleID, GatewayHostName, k)
	return map[string]string{"EdgeHubConnectionString": cs, "EdgeModuleCACertificateFile": w.hub.CAFile()}
}

// generationID looks like edged's: a long decimal number.
func generationID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e18))
	return n.Add(n, big.NewInt(6e17)).String()
}

type signRequest struct {
	KeyID string `json:"keyId"`
	Algo  string `json:"algo"`
	Data  string `json:"data"`
}

func (w *Workload) sign(rw http.ResponseWriter, r *http.Request) {
	if !hasAPIVersion(rw, r) {
		return
	}
	module, gen := r.PathValue("module"), r.PathValue("gen")
	w.mu.Lock()
	m, ok := w.modules[module]
	w.mu.Unlock()
	if !ok || m.genID != gen {
		writeError(rw, http.StatusNotFound, fmt.Errorf("module %q with generation %q not found", module, gen))
		return
	}
	key, ok := w.hub.sasKeyOf(identityKey{m.deviceID, module})
	if !ok {
		writeError(rw, http.StatusNotFound, fmt.Errorf("module %q has no key on the hub", module))
		return
	}
	data, err := decodeSignRequest(r)
	if err != nil {
		writeError(rw, http.StatusBadRequest, err)
		return
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(data)
	w.mu.Lock()
	w.signs++
	w.mu.Unlock()
	writeJSON(rw, http.StatusOK, map[string]string{"digest": base64.StdEncoding.EncodeToString(mac.Sum(nil))})
}

func decodeSignRequest(r *http.Request) ([]byte, error) {
	var req signRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64*1024))
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("decode sign request: %w", err)
	}
	if req.KeyID != "primary" || req.Algo != "HMACSHA256" {
		return nil, fmt.Errorf("keyId %q algo %q: want primary and HMACSHA256", req.KeyID, req.Algo)
	}
	data, err := base64.StdEncoding.DecodeString(req.Data)
	if err != nil {
		return nil, fmt.Errorf("decode data: %w", err)
	}
	return data, nil
}

func (w *Workload) trustBundle(rw http.ResponseWriter, r *http.Request) {
	if hasAPIVersion(rw, r) {
		writeJSON(rw, http.StatusOK, map[string]string{"certificate": string(w.hub.CAPEM())})
	}
}

func hasAPIVersion(rw http.ResponseWriter, r *http.Request) bool {
	if r.URL.Query().Get("api-version") == "" {
		writeError(rw, http.StatusBadRequest, errors.New("missing api-version"))
		return false
	}
	return true
}

func writeError(rw http.ResponseWriter, status int, err error) {
	writeJSON(rw, status, map[string]string{"message": err.Error()})
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}
