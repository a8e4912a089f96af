package iothub

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	vectorKey    = "+XLy+MVZ+aTeOnVzN2kLeB16O+kSxmz6g3rS6fAf6rw="
	vectorExpiry = 1471940363
)

func TestTokenVector(t *testing.T) {
	id := Identity{HostName: "iot-hub-for-test.azure-devices.net", DeviceID: "iot-device-for-test"}
	for _, tc := range []struct {
		module, sig string
	}{
		{"", "SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4="},
		{"module-for-test", "JwAxBBBPYA0E/THdnrXzUfBfuZ7deH6pppCniJ23Uu0="},
	} {
		id.ModuleID = tc.module
		s, err := NewKeySigner(vectorKey)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Token(context.Background(), s, id.ResourceURI(), time.Unix(vectorExpiry, 0))
		if err != nil {
			t.Fatal(err)
		}
		want := "SharedAccessSignature sr=" + strings.ReplaceAll(id.ResourceURI(), "/", "%2F") +
			"&sig=" + url.QueryEscape(tc.sig) + "&se=1471940363"
		if got != want {
			t.Errorf("module %q:\n got %s\nwant %s", tc.module, got, want)
		}
	}
	wantSign := "iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test\n1471940363"
	id.ModuleID = ""
	if got := StringToSign(id.ResourceURI(), time.Unix(vectorExpiry, 0)); got != wantSign {
		t.Errorf("string to sign %q, want %q", got, wantSign)
	}
}

func TestTokenExpiry(t *testing.T) {
	s, _ := NewKeySigner(vectorKey)
	tok, _ := Token(context.Background(), s, "h/devices/d", time.Unix(vectorExpiry, 0))
	if se, ok := TokenExpiry(tok); !ok || se.Unix() != vectorExpiry {
		t.Errorf("TokenExpiry = %v, %v", se, ok)
	}
	if _, ok := TokenExpiry("SharedAccessSignature sr=a&sig=b"); ok {
		t.Error("expiry found in a token without se")
	}
}

func TestIdentityNames(t *testing.T) {
	for _, tc := range []struct {
		name                              string
		cs                                string
		clientID, username, topic, resURI string
	}{
		{"device", "HostName=h.azure-devices.net;DeviceId=d1;SharedAccessKey=" + vectorKey,
			"d1", "h.azure-devices.net/d1/?api-version=2021-04-12", "devices/d1/messages/events/", "h.azure-devices.net/devices/d1"},
		{"module", "HostName=h.azure-devices.net;DeviceId=d1;ModuleId=m1;SharedAccessKey=" + vectorKey,
			"d1/m1", "h.azure-devices.net/d1/m1/?api-version=2021-04-12", "devices/d1/modules/m1/messages/events/", "h.azure-devices.net/devices/d1/modules/m1"},
		{"gateway keeps the hub's name", "HostName=h.azure-devices.net;DeviceId=d1;GatewayHostName=edge.plant.local;SharedAccessKey=" + vectorKey,
			"d1", "h.azure-devices.net/d1/?api-version=2021-04-12", "devices/d1/messages/events/", "h.azure-devices.net/devices/d1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConnectionString(tc.cs)
			if err != nil {
				t.Fatal(err)
			}
			id := c.Identity()
			for _, g := range [][3]string{{"ClientID", id.ClientID(), tc.clientID}, {"Username", id.Username(), tc.username},
				{"TelemetryTopic", id.TelemetryTopic(), tc.topic}, {"ResourceURI", id.ResourceURI(), tc.resURI}} {
				if g[1] != g[2] {
					t.Errorf("%s = %q, want %q", g[0], g[1], g[2])
				}
			}
		})
	}
}

func TestParseConnectionString(t *testing.T) {
	good := []struct {
		in   string
		want ConnectionString
	}{
		{"HostName=h;DeviceId=d;SharedAccessKey=" + vectorKey, ConnectionString{HostName: "h", DeviceID: "d", SharedAccessKey: vectorKey}},
		{" HostName=h ; DeviceId=d;ModuleId=m;SharedAccessKey=" + vectorKey + ";", ConnectionString{HostName: "h", DeviceID: "d", ModuleID: "m", SharedAccessKey: vectorKey}},
		{"HostName=h;DeviceId=d;x509=true", ConnectionString{HostName: "h", DeviceID: "d", X509: true}},
		{"HostName=h;DeviceId=d;GatewayHostName=g;SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1",
			ConnectionString{HostName: "h", DeviceID: "d", GatewayHostName: "g", SharedAccessSignature: "SharedAccessSignature sr=a&sig=b&se=1"}},
	}
	for _, tc := range good {
		got, err := ParseConnectionString(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ in, wantErr string }{
		{"", "HostName is missing"},
		{"DeviceId=d;SharedAccessKey=" + vectorKey, "HostName is missing"},
		{"HostName=h;SharedAccessKey=" + vectorKey, "DeviceId is missing"},
		{"HostName=h;DeviceId=d", "no credentials"},
		{"HostName=h;DeviceId=d;SharedAccessKey=not*base64!", "SharedAccessKey is not valid base64"},
		{"HostName=h;DeviceId=d;SharedAccessKey=" + vectorKey + ";x509=true", "give one of"},
		{"HostName=h;DeviceId=d;x509=yes", "want true or false"},
		{"HostName=h;DeviceId=d;Sharedaccesskey=" + vectorKey, "unknown part Sharedaccesskey"},
		{"HostName=h;DeviceId=d;" + vectorKey, "not shown"},
		{"HostName=h;DeviceId=d;" + vectorKey[:43], "has no '='"},
		{"HostName=h;HostName=i;DeviceId=d;x509=true", "HostName given twice"},
		{"HostName=https://h;DeviceId=d;x509=true", "is not a host name"},
		{"HostName=h;DeviceId=d/x;x509=true", "may not contain"},
		{"HostName=h;DeviceId=d;SharedAccessSignature=sr=a", "must start with"},
	}
	for _, tc := range bad {
		_, err := ParseConnectionString(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Parse(%q) error %v, want one containing %q", tc.in, err, tc.wantErr)
			continue
		}
		if strings.Contains(err.Error(), vectorKey) || strings.Contains(err.Error(), vectorKey[8:20]) {
			t.Errorf("Parse(%q) error leaks the key: %v", tc.in, err)
		}
	}
}

func TestConnectionStringHidesSecrets(t *testing.T) {
	c, err := ParseConnectionString("HostName=h;DeviceId=d;SharedAccessKey=" + vectorKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{c.String(), c.GoString()} {
		if strings.Contains(s, vectorKey) || !strings.Contains(s, "[redacted]") {
			t.Errorf("printed connection string %q", s)
		}
	}
}

func TestPropertiesEncode(t *testing.T) {
	p := Properties{
		{"$.ct", "application/json"}, {"$.ce", "utf-8"},
		{"line", "Line 1 & 2=a/b"}, {"größe", "Ölpumpe ✓"}, {"plus", "a+b%c"},
	}
	got := p.Encode()
	want := "$.ct=application%2Fjson&$.ce=utf-8&line=Line%201%20%26%202%3Da%2Fb" +
		"&gr%C3%B6%C3%9Fe=%C3%96lpumpe%20%E2%9C%93&plus=a%2Bb%25c"
	if got != want {
		t.Fatalf("Encode\n got %s\nwant %s", got, want)
	}
	// What the hub does with the bag: split on '&' and '=', then decode.
	for i, kv := range strings.Split(got, "&") {
		name, value, _ := strings.Cut(kv, "=")
		dn, err1 := url.PathUnescape(name)
		dv, err2 := url.PathUnescape(value)
		if err1 != nil || err2 != nil || dn != p[i][0] || dv != p[i][1] {
			t.Errorf("property %d decodes to %q=%q, want %q=%q", i, dn, dv, p[i][0], p[i][1])
		}
	}
}

func TestEdgeFromEnv(t *testing.T) {
	full := map[string]string{
		"IOTEDGE_WORKLOADURI": "unix:///var/run/iotedge/workload.sock", "IOTEDGE_IOTHUBHOSTNAME": "h.azure-devices.net",
		"IOTEDGE_GATEWAYHOSTNAME": "edgehub", "IOTEDGE_DEVICEID": "d", "IOTEDGE_MODULEID": "fb",
		"IOTEDGE_MODULEGENERATIONID": "g1", "IOTEDGE_AUTHSCHEME": "sasToken",
	}
	e, ok, err := EdgeFromEnv(func(k string) string { return full[k] })
	if !ok || err != nil || e.APIVersion != DefaultEdgeAPIVersion || e.Identity().ClientID() != "d/fb" {
		t.Errorf("full env: %+v %v %v", e, ok, err)
	}
	if _, ok, err := EdgeFromEnv(func(string) string { return "" }); ok || err != nil {
		t.Errorf("empty env: ok %v err %v, want not a module", ok, err)
	}
	delete(full, "IOTEDGE_MODULEGENERATIONID")
	if _, ok, err := EdgeFromEnv(func(k string) string { return full[k] }); !ok || err == nil || !strings.Contains(err.Error(), "IOTEDGE_MODULEGENERATIONID") {
		t.Errorf("partial env: ok %v err %v, want an error naming the missing variable", ok, err)
	}
}
