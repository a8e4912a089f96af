package iothub

import (
	"strings"
	"testing"
	"time"

	"factorybridge"
)

const testKey = "+XLy+MVZ+aTeOnVzN2kLeB16O+kSxmz6g3rS6fAf6rw="

func edgeEnv(extra map[string]string) func(string) string {
	env := map[string]string{
		"IOTEDGE_WORKLOADURI": "unix:///var/run/iotedge/workload.sock", "IOTEDGE_IOTHUBHOSTNAME": "hub.azure-devices.net",
		"IOTEDGE_GATEWAYHOSTNAME": "edgehub", "IOTEDGE_DEVICEID": "edge-1", "IOTEDGE_MODULEID": "factorybridge",
		"IOTEDGE_MODULEGENERATIONID": "g1", "IOTEDGE_AUTHSCHEME": "sasToken",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func noEnv(string) string { return "" }

// TestResolve finds the identity from a connection string or the IoT Edge
// environment, as [iothub] and the environment give them.
func TestResolve(t *testing.T) {
	type source struct {
		conn factorybridge.Secret
		edge string
	}
	cs := func(s string) source { return source{factorybridge.Secret(s), EdgeAuto} }
	for _, tc := range []struct {
		name     string
		cfg      source
		env      func(string) string
		clientID string
		host     string
		signer   bool
		wantErr  string
	}{
		{name: "device key", cfg: cs("HostName=h.net;DeviceId=d;SharedAccessKey=" + testKey), env: noEnv, clientID: "d", host: "h.net", signer: true},
		{name: "gateway", cfg: cs("HostName=h.net;DeviceId=d;GatewayHostName=gw.local;SharedAccessKey=" + testKey), env: noEnv, clientID: "d", host: "gw.local", signer: true},
		{name: "module token", cfg: cs("HostName=h.net;DeviceId=d;ModuleId=m;SharedAccessSignature=SharedAccessSignature sr=x&sig=y&se=1"), env: noEnv, clientID: "d/m", host: "h.net"},
		{name: "x509 without files", cfg: cs("HostName=h.net;DeviceId=d;x509=true"), env: noEnv, wantErr: "set iothub.cert_file"},
		{name: "configured string beats IOTEDGE", cfg: cs("HostName=h.net;DeviceId=d;SharedAccessKey=" + testKey), env: edgeEnv(nil), clientID: "d", host: "h.net", signer: true},
		{name: "edge module", cfg: source{edge: EdgeAuto}, env: edgeEnv(nil), clientID: "edge-1/factorybridge", host: "edgehub", signer: true},
		{name: "EdgeHubConnectionString wins", cfg: source{edge: EdgeOn},
			env:      edgeEnv(map[string]string{"EdgeHubConnectionString": "HostName=h.net;DeviceId=e;ModuleId=m;GatewayHostName=gw;SharedAccessKey=" + testKey}),
			clientID: "e/m", host: "gw", signer: true},
		{name: "no identity", cfg: source{edge: EdgeAuto}, env: noEnv, wantErr: "not running as an IoT Edge module"},
		{name: "partial edge env", cfg: source{edge: EdgeOn}, env: edgeEnv(map[string]string{"IOTEDGE_DEVICEID": ""}), wantErr: "IOTEDGE_DEVICEID not set"},
		{name: "bad string names the part", cfg: cs("HostName=h.net;SharedAccessKey=" + testKey), env: noEnv, wantErr: "DeviceId is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o Options
			desc, err := o.Resolve(tc.cfg.conn, tc.cfg.edge, tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), testKey) {
					t.Fatalf("error leaks the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o.MQTT.BridgeID = "b1"
			d, err := newDialect(o)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Identity.ClientID(); got != tc.clientID {
				t.Errorf("ClientID %q, want %q", got, tc.clientID)
			}
			if d.Host != tc.host {
				t.Errorf("host %q, want %q", d.Host, tc.host)
			}
			if (o.Signer != nil) != tc.signer {
				t.Errorf("signer %v, want %v", o.Signer != nil, tc.signer)
			}
			if strings.Contains(desc, testKey) {
				t.Errorf("description leaks the key: %s", desc)
			}
		})
	}
}

func TestHubTopics(t *testing.T) {
	for _, tc := range []struct {
		name string
		hub  Options
		want string
	}{
		{"device", Options{Identity: identity("h", "d", ""), Token: "x"},
			"devices/d/messages/events/$.ct=application%2Fjson&$.ce=utf-8&type=telemetry&bridge=b%201&line=Line%20A%2FB%20%26%20C&$.mid=b%201-42"},
		{"module output", Options{Identity: identity("h", "d", "m"), Token: "x", Output: "plant data"},
			"devices/d/modules/m/messages/events/$.ct=application%2Fjson&$.ce=utf-8&$.on=plant%20data&type=telemetry&bridge=b%201&line=Line%20A%2FB%20%26%20C&$.mid=b%201-42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.hub.MQTT.BridgeID = "b 1"
			d, err := newDialect(tc.hub)
			if err != nil {
				t.Fatal(err)
			}
			readings, oee := d.Topics()
			got := d.MessageTopic(readings.Render("srv", "Line A/B & C", "st"), 42, 100)
			if got != tc.want {
				t.Errorf("topic\n got %s\nwant %s", got, tc.want)
			}
			if total, _ := d.billing.read(time.Now()); total != 1 {
				t.Errorf("a message of 100 bytes metered as %d units, want 1", total)
			}
			if o := oee.Render("srv", "L", ""); !strings.Contains(o, "&type=oee&") {
				t.Errorf("OEE topic %s has no type=oee", o)
			}
		})
	}
}

func TestHubBrokerURL(t *testing.T) {
	for _, tc := range []struct {
		hub  Options
		want string
	}{
		{Options{Identity: identity("h.net", "d", ""), Token: "x"}, "ssl://h.net:8883"},
		{Options{Identity: identity("h.net", "d", ""), Token: "x", WebSocket: true}, "wss://h.net:443/$iothub/websocket"},
		{Options{Identity: identity("h.net", "d", ""), Token: "x", Host: "127.0.0.1", Port: 18883}, "ssl://127.0.0.1:18883"},
	} {
		tc.hub.MQTT.BridgeID = "b"
		d, err := newDialect(tc.hub)
		if err != nil {
			t.Fatal(err)
		}
		if got, id := d.Endpoint(); got.String() != tc.want || id != "d" {
			t.Errorf("broker %s as %s, want %s as d", got, id, tc.want)
		}
	}
}

func TestBillingMeter(t *testing.T) {
	var b billingMeter
	t0 := time.Unix(3600*100, 0)
	for m := 0; m < 90; m++ {
		b.add(2, t0.Add(time.Duration(m)*time.Minute))
	}
	total, hour := b.read(t0.Add(89 * time.Minute))
	if total != 180 || hour != 120 {
		t.Errorf("total %d, last hour %d; want 180 and 120", total, hour)
	}
	for _, tc := range []struct {
		payload int
		topic   string
		want    uint64
	}{{1, "", 1}, {4096, "", 1}, {4000, strings.Repeat("x", 96), 1}, {4000, strings.Repeat("x", 97), 2}, {261120, strings.Repeat("x", 300), 64}} {
		if got := billableUnits(tc.payload, tc.topic); got != tc.want {
			t.Errorf("billableUnits(%d, %d-byte topic) = %d, want %d", tc.payload, len(tc.topic), got, tc.want)
		}
	}
}

func identity(host, device, module string) Identity {
	return Identity{HostName: host, DeviceID: device, ModuleID: module}
}

// TestEdgeAuthScheme: edgeAgent sets IOTEDGE_AUTHSCHEME=sasToken; other
// spellings the SDKs accept are accepted too, other schemes are refused.
func TestEdgeAuthScheme(t *testing.T) {
	for _, tc := range []struct {
		scheme string
		ok     bool
	}{{"sasToken", true}, {"SasToken", true}, {"SASTOKEN", true}, {"", true}, {"x509", false}, {"sasToken ", false}} {
		_, _, err := EdgeFromEnv(edgeEnv(map[string]string{"IOTEDGE_AUTHSCHEME": tc.scheme}))
		if (err == nil) != tc.ok {
			t.Errorf("IOTEDGE_AUTHSCHEME=%q: error %v, want ok %v", tc.scheme, err, tc.ok)
		}
	}
}

// TestResolveEdgeRuntimeEnv resolves the environment exactly as edgeAgent
// builds it for a custom module in docker mode (Azure/iotedge edge-agent,
// Microsoft.Azure.Devices.Edge.Agent.Edgelet/Commands/CreateOrUpdateCommand.cs,
// GetEnvVars; IOTEDGE_AUTHSCHEME is IdentityProviderServiceCredentials'
// DefaultAuthScheme "sasToken"). Variables the bridge does not use
// (RuntimeLogLevel) are there too.
func TestResolveEdgeRuntimeEnv(t *testing.T) {
	env := map[string]string{
		"IOTEDGE_WORKLOADURI":        "unix:///var/run/iotedge/workload.sock",
		"IOTEDGE_AUTHSCHEME":         "sasToken",
		"IOTEDGE_MODULEGENERATIONID": "638412345678901234",
		"IOTEDGE_IOTHUBHOSTNAME":     "plant-hub.azure-devices.net",
		"IOTEDGE_GATEWAYHOSTNAME":    "edge-gw-01",
		"IOTEDGE_DEVICEID":           "edge-gw-01",
		"IOTEDGE_MODULEID":           "factorybridge",
		"RuntimeLogLevel":            "Information",
		"IOTEDGE_APIVERSION":         "2019-01-30",
	}
	var o Options
	desc, err := o.Resolve("", EdgeAuto, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	w, ok := o.Signer.(*Workload)
	if !ok || o.TrustBundle == nil || o.Host != "edge-gw-01" || o.Identity.ClientID() != "edge-gw-01/factorybridge" ||
		o.Identity.HostName != "plant-hub.azure-devices.net" || w.edge.APIVersion != "2019-01-30" {
		t.Fatalf("resolved %+v (%s)", o, desc)
	}
}

// TestResolveEdgeHubConnectionString: with EdgeHubConnectionString the
// runtime names edgeHub's CA in EdgeModuleCACertificateFile; it is used.
func TestResolveEdgeHubConnectionString(t *testing.T) {
	env := map[string]string{
		"EdgeHubConnectionString":     "HostName=h.net;DeviceId=e;ModuleId=m;GatewayHostName=gw;SharedAccessKey=" + testKey,
		"EdgeModuleCACertificateFile": "/etc/edge/ca.pem",
	}
	var o Options
	desc, err := o.Resolve("", EdgeAuto, func(k string) string { return env[k] })
	if err != nil || o.EdgeCAFile != "/etc/edge/ca.pem" || o.Host != "gw" || !strings.Contains(desc, "EdgeModuleCACertificateFile") {
		t.Errorf("EdgeCAFile %q host %q desc %q err %v", o.EdgeCAFile, o.Host, desc, err)
	}
	o = Options{}
	if _, err := o.Resolve("", EdgeOff, func(k string) string { return env[k] }); err == nil || o.EdgeCAFile != "" {
		t.Errorf("edge = off used the runtime's variables: %+v %v", o, err)
	}
}
