package hubsim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// unixClient talks HTTP over the workload's socket.
func unixClient(w *Workload) *http.Client {
	path := strings.TrimPrefix(w.URI(), "unix://")
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
}

func signRequestBody(data string) []byte {
	b, _ := json.Marshal(map[string]string{"keyId": "primary", "algo": "HMACSHA256", "data": base64.StdEncoding.EncodeToString([]byte(data))})
	return b
}

func TestWorkloadSign(t *testing.T) {
	h := Start(t, Options{})
	w := StartWorkload(t, WorkloadOptions{Hub: h})
	env := w.Env("edge-1", "bridge")
	key := h.AddModule("edge-1", "bridge") // a new key: signing must follow it
	hc := unixClient(w)

	toSign := url.QueryEscape(h.HostName()+"/devices/edge-1/modules/bridge") + "\n1700000000"
	path := "http://workload/modules/bridge/genid/" + env["IOTEDGE_MODULEGENERATIONID"] + "/sign?api-version=" + EdgeAPIVersion
	resp, err := hc.Post(path, "application/json", bytes.NewReader(signRequestBody(toSign)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Digest string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign: %d %v", resp.StatusCode, err)
	}
	k, _ := base64.StdEncoding.DecodeString(key)
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte(toSign))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); got.Digest != want {
		t.Errorf("digest %s, want %s", got.Digest, want)
	}
	if w.SignCalls() != 1 {
		t.Errorf("SignCalls = %d", w.SignCalls())
	}
}

func TestWorkloadErrors(t *testing.T) {
	h := Start(t, Options{})
	w := StartWorkload(t, WorkloadOptions{Hub: h})
	gen := w.Env("edge-1", "bridge")["IOTEDGE_MODULEGENERATIONID"]
	hc := unixClient(w)
	tests := []struct {
		name, path, body string
		want             int
	}{
		{"wrong genId", "/modules/bridge/genid/1/sign?api-version=" + EdgeAPIVersion, string(signRequestBody("x")), 404},
		{"unknown module", "/modules/other/genid/" + gen + "/sign?api-version=" + EdgeAPIVersion, string(signRequestBody("x")), 404},
		{"no api-version", "/modules/bridge/genid/" + gen + "/sign", string(signRequestBody("x")), 400},
		{"bad algo", "/modules/bridge/genid/" + gen + "/sign?api-version=" + EdgeAPIVersion, `{"keyId":"primary","algo":"SHA1","data":"eA=="}`, 400},
		{"bad data", "/modules/bridge/genid/" + gen + "/sign?api-version=" + EdgeAPIVersion, `{"keyId":"primary","algo":"HMACSHA256","data":"%%"}`, 400},
	}
	for _, tt := range tests {
		resp, err := hc.Post("http://workload"+tt.path, "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tt.want || e.Message == "" {
			t.Errorf("%s: %d %q, want %d and a message", tt.name, resp.StatusCode, e.Message, tt.want)
		}
	}
	if w.SignCalls() != 0 {
		t.Errorf("SignCalls = %d", w.SignCalls())
	}
}

func TestWorkloadTrustBundleAndEnv(t *testing.T) {
	h := Start(t, Options{})
	w := StartWorkload(t, WorkloadOptions{Hub: h})
	resp, err := unixClient(w).Get("http://workload/trust-bundle?api-version=" + EdgeAPIVersion)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Certificate string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.Certificate != string(h.CAPEM()) {
		t.Errorf("trust bundle %q %v, want the hub's CA", got.Certificate, err)
	}

	env := w.Env("edge-1", "bridge")
	want := map[string]string{
		"IOTEDGE_WORKLOADURI": w.URI(), "IOTEDGE_IOTHUBHOSTNAME": h.HostName(),
		"IOTEDGE_GATEWAYHOSTNAME": "localhost", "IOTEDGE_DEVICEID": "edge-1", "IOTEDGE_MODULEID": "bridge",
		"IOTEDGE_AUTHSCHEME": "sasToken", "IOTEDGE_APIVERSION": "2018-06-28", "RuntimeLogLevel": "Information",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if len(env) != len(want)+1 { // and the generation ID
		t.Errorf("variables %v, want exactly edgeAgent's %v and IOTEDGE_MODULEGENERATIONID", env, want)
	}
	if env["IOTEDGE_MODULEGENERATIONID"] == "" || w.Env("edge-1", "bridge")["IOTEDGE_MODULEGENERATIONID"] != env["IOTEDGE_MODULEGENERATIONID"] {
		t.Error("generation ID missing or not stable")
	}
	if _, ok := h.sasKeyOf(identityKey{"edge-1", "bridge"}); !ok {
		t.Error("Env did not register the module on the hub")
	}
}
