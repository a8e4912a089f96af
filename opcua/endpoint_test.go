package opcua

import (
	"testing"

	"github.com/gopcua/opcua/ua"
)

func ep(policy string, mode ua.MessageSecurityMode) *ua.EndpointDescription {
	return &ua.EndpointDescription{SecurityPolicyURI: ua.SecurityPolicyURIPrefix + policy, SecurityMode: mode}
}

func TestPickEndpoint(t *testing.T) {
	none, sign, enc := ua.MessageSecurityModeNone, ua.MessageSecurityModeSign, ua.MessageSecurityModeSignAndEncrypt
	all := []*ua.EndpointDescription{
		ep("None", none), ep("Basic256", enc), ep("Basic256Sha256", sign), ep("Basic256Sha256", enc),
		ep("Aes128_Sha256_RsaOaep", sign), ep("Aes256_Sha256_RsaPss", enc),
	}
	tests := []struct {
		name         string
		eps          []*ua.EndpointDescription
		policy, mode string
		want         string // policy/mode, "" for an error
	}{
		{"auto auto", all, Auto, Auto, "Aes256_Sha256_RsaPss/SignAndEncrypt"},
		{"auto sign", all, Auto, "Sign", "Aes128_Sha256_RsaOaep/Sign"},
		{"policy auto mode", all, "Basic256Sha256", Auto, "Basic256Sha256/SignAndEncrypt"},
		{"exact", all, "Basic256Sha256", "Sign", "Basic256Sha256/Sign"},
		{"deprecated loses to current", []*ua.EndpointDescription{ep("Basic256", enc), ep("Basic256Sha256", sign)}, Auto, Auto, "Basic256Sha256/Sign"},
		{"auto never none", []*ua.EndpointDescription{ep("None", none)}, Auto, Auto, ""},
		{"unknown policy skipped", []*ua.EndpointDescription{ep("Future", enc), ep("Basic256Sha256", sign)}, Auto, Auto, "Basic256Sha256/Sign"},
		{"unknown policy skipped, none left", []*ua.EndpointDescription{ep("Future", enc), ep("None", none)}, Auto, Auto, ""},
		{"auto policy never none", []*ua.EndpointDescription{ep("None", none)}, Auto, "None", ""},
		{"auto mode never none", []*ua.EndpointDescription{ep("Basic256Sha256", none), ep("Basic256Sha256", sign)}, "Basic256Sha256", Auto, "Basic256Sha256/Sign"},
		{"explicit none", all, "None", "None", "None/None"},
		{"not offered", all, "Aes128_Sha256_RsaOaep", "SignAndEncrypt", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickEndpoint(tt.eps, tt.policy, tt.mode)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("picked %s, want an error", shortPolicy(got.SecurityPolicyURI))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := shortPolicy(got.SecurityPolicyURI) + "/" + modeName(got.SecurityMode); s != tt.want {
				t.Errorf("picked %s, want %s", s, tt.want)
			}
		})
	}
}

func TestWeaker(t *testing.T) {
	none, sign, enc := ua.MessageSecurityModeNone, ua.MessageSecurityModeSign, ua.MessageSecurityModeSignAndEncrypt
	eps := []*ua.EndpointDescription{ep("None", none), ep("Basic256", enc), ep("Basic256Sha256", sign)}
	tests := []struct {
		name string
		used *ua.EndpointDescription
		eps  []*ua.EndpointDescription
		warn bool
	}{
		{"none with better offered", eps[0], eps, true},
		{"deprecated with better offered", eps[1], eps, true},
		{"current policy", eps[2], eps, false},
		{"none, nothing better", eps[0], eps[:1], false},
		{"deprecated, nothing better", eps[1], eps[:2], false},
	}
	for _, tt := range tests {
		if got := weaker(tt.used, tt.eps) != nil; got != tt.warn {
			t.Errorf("%s: warn %v, want %v", tt.name, got, tt.warn)
		}
	}
}
