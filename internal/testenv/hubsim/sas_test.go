package hubsim

import (
	"encoding/base64"
	"maps"
	"testing"
	"time"
)

// The test vector from iothub.md (Azure CLI IoT extension's unit test).
const (
	vectorKey    = "+XLy+MVZ+aTeOnVzN2kLeB16O+kSxmz6g3rS6fAf6rw="
	vectorExpiry = 1471940363
	vectorHost   = "iot-hub-for-test.azure-devices.net"
)

func TestSASVector(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(vectorKey)
	before, after := time.Unix(vectorExpiry-60, 0), time.Unix(vectorExpiry, 0)
	tests := []struct {
		name, token string
		id          identityKey
		now         time.Time
		want        Reason
	}{
		{"device", "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D&se=1471940363",
			identityKey{"iot-device-for-test", ""}, before, ""},
		{"module", "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test%2Fmodules%2Fmodule-for-test&sig=JwAxBBBPYA0E%2FTHdnrXzUfBfuZ7deH6pppCniJ23Uu0%3D&se=1471940363",
			identityKey{"iot-device-for-test", "module-for-test"}, before, ""},
		{"fields in any order", "SharedAccessSignature se=1471940363&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D&sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test",
			identityKey{"iot-device-for-test", ""}, before, ""},
		{"expired", "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D&se=1471940363",
			identityKey{"iot-device-for-test", ""}, after, ReasonTokenExpired},
		{"device token for a module", "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D&se=1471940363",
			identityKey{"iot-device-for-test", "module-for-test"}, before, ReasonBadResource},
		{"lower-case escapes signed as upper-case", "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2fdevices%2fiot-device-for-test&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D&se=1471940363",
			identityKey{"iot-device-for-test", ""}, before, ReasonBadSignature},
		{"unencoded padding", "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4=&se=1471940363",
			identityKey{"iot-device-for-test", ""}, before, ReasonBadSignature},
		{"policy key name", "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D&se=1471940363&skn=device",
			identityKey{"iot-device-for-test", ""}, before, ReasonBadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseSAS(tt.token)
			if err != nil {
				t.Fatal(err)
			}
			got, err := checkSAS(tok, key, resourceURI(vectorHost, tt.id), tt.now)
			if got != tt.want {
				t.Errorf("checkSAS = %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

func TestSASSignVector(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(vectorKey)
	got := base64.StdEncoding.EncodeToString(sign(key, "iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test", vectorExpiry))
	if want := "SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4="; got != want {
		t.Errorf("sign = %s, want %s", got, want)
	}
}

func TestParseSASMalformed(t *testing.T) {
	for _, s := range []string{
		"",
		"sr=a&sig=b&se=1",
		"SharedAccessSignature",
		"SharedAccessSignature  sr=a&sig=b&se=1",
		"sharedaccesssignature sr=a&sig=b&se=1",
		"SharedAccessSignature sr=a&sig=b",
		"SharedAccessSignature sr=a&se=1",
		"SharedAccessSignature sig=b&se=1",
		"SharedAccessSignature sr=a&sig=b&se=soon",
		"SharedAccessSignature sr=a&sig=b&se=1&sig=c",
		"SharedAccessSignature sr=a&sig&se=1",
		"SharedAccessSignature sr=a&sig=%zz&se=1",
	} {
		if _, err := parseSAS(s); err == nil {
			t.Errorf("parseSAS(%q) succeeded", s)
		}
	}
}

func TestCheckUsername(t *testing.T) {
	const host = "h.azure-devices.net"
	tests := []struct {
		username, clientID string
		ok                 bool
	}{
		{"h.azure-devices.net/dev/?api-version=2021-04-12", "dev", true},
		{"h.azure-devices.net/dev/mod/?api-version=2021-04-12", "dev/mod", true},
		{"h.azure-devices.net/dev/?api-version=2018-06-30", "dev", true},
		{"h.azure-devices.net/dev/?api-version=2021-04-12&DeviceClientType=x%2F1", "dev", true},
		{"h.azure-devices.net/dev/?api-version=2016-11-14", "dev", false},
		{"h.azure-devices.net/dev/?api-version=latest", "dev", false},
		{"h.azure-devices.net/dev/", "dev", false},
		{"h.azure-devices.net/dev/?", "dev", false},
		{"h.azure-devices.net/dev?api-version=2021-04-12", "dev", false},
		{"127.0.0.1/dev/?api-version=2021-04-12", "dev", false},
		{"h.azure-devices.net/dev/?api-version=2021-04-12", "dev/mod", false},
		{"h.azure-devices.net/dev/?api-version=2021-04-12&api-version=2021-04-12", "dev", false},
	}
	for _, tt := range tests {
		if err := checkUsername(tt.username, host, tt.clientID); (err == nil) != tt.ok {
			t.Errorf("checkUsername(%q, %q) = %v, want ok %v", tt.username, tt.clientID, err, tt.ok)
		}
	}
}

func TestParseBag(t *testing.T) {
	tests := []struct {
		bag  string
		want map[string]string // nil: an error
	}{
		{"", map[string]string{}},
		{"$.ct=application%2Fjson&$.ce=utf-8", map[string]string{"$.ct": "application/json", "$.ce": "utf-8"}},
		{"a%20b=1%2B1%3D2", map[string]string{"a b": "1+1=2"}},
		{"space=a+b", map[string]string{"space": "a+b"}},
		{"flag", map[string]string{"flag": ""}},
		{"a=", map[string]string{"a": ""}},
		{"bad=100%", map[string]string{"bad": "100%"}},
		{"ct=application/json&type=x", map[string]string{"ct": "application"}},
		{"a=b&/ignored", map[string]string{"a": "b"}},
		{"a=b&", nil},
		{"&a=b", nil},
		{"a=b&&c=d", nil},
		{"=b", nil},
		{"a=b=c", nil},
	}
	for _, tt := range tests {
		got, err := parseBag(tt.bag)
		if tt.want == nil {
			if err == nil {
				t.Errorf("parseBag(%q) = %v, want an error", tt.bag, got)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("parseBag(%q) = %v, %v; want %v", tt.bag, got, err, tt.want)
		}
	}
}

func FuzzParseBag(f *testing.F) {
	for _, s := range []string{"", "a=b&c=d", "$.ct=application%2Fjson", "a=b/c", "%zz=%", "&&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, bag string) {
		props, err := parseBag(bag)
		if err == nil && props == nil {
			t.Fatal("nil properties without an error")
		}
	})
}

func FuzzParseSAS(f *testing.F) {
	f.Add("SharedAccessSignature sr=a%2Fdevices%2Fb&sig=c%3D&se=1")
	f.Add("SharedAccessSignature se=1&&sig=x=y&sr=")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := parseSAS(s)
		if err != nil {
			return
		}
		_, _ = checkSAS(tok, []byte("k"), "a/devices/b", time.Unix(0, 0))
	})
}
