package opcua

import (
	"errors"
	"os"
	"testing"

	"github.com/gopcua/opcua/ua"

	"factorybridge/internal/testenv"
	"factorybridge/pki"
)

// TestCheckCreateSession: the CreateSession response must confirm what the
// unauthenticated GetEndpoints said (OPC 10000-4 §5.5.1).
func TestCheckCreateSession(t *testing.T) {
	dir := t.TempDir()
	certPath, _, _ := testenv.WriteServerCert(t, dir, testenv.ServerCert{})
	cert, err := os.ReadFile(certPath)
	must(t, err)
	other, _, _ := testenv.WriteServerCert(t, t.TempDir(), testenv.ServerCert{CN: "other"})
	otherCert, err := os.ReadFile(other)
	must(t, err)
	mk := func(mode ua.MessageSecurityMode, policy string, tokenPolicy string) *ua.EndpointDescription {
		return &ua.EndpointDescription{
			EndpointURL: "opc.tcp://plc:4840", SecurityMode: mode, SecurityPolicyURI: ua.SecurityPolicyURIPrefix + policy,
			Server: &ua.ApplicationDescription{ApplicationURI: testenv.SimAppURI}, ServerCertificate: cert, SecurityLevel: 3,
			UserIdentityTokens: []*ua.UserTokenPolicy{{PolicyID: "u", TokenType: ua.UserTokenTypeUserName, SecurityPolicyURI: ua.SecurityPolicyURIPrefix + tokenPolicy}},
		}
	}
	sign, enc := mk(ua.MessageSecurityModeSign, "Basic256Sha256", "Basic256Sha256"), mk(ua.MessageSecurityModeSignAndEncrypt, "Basic256Sha256", "Basic256Sha256")
	listed := []*ua.EndpointDescription{enc, sign}
	reordered := []*ua.EndpointDescription{sign, enc}
	rewrittenToken := []*ua.EndpointDescription{enc, mk(ua.MessageSecurityModeSign, "Basic256Sha256", "None")}
	wrongURI := mk(ua.MessageSecurityModeSign, "Basic256Sha256", "Basic256Sha256")
	wrongURI.Server = &ua.ApplicationDescription{ApplicationURI: "urn:elsewhere"}
	tests := []struct {
		name    string
		eps     []*ua.EndpointDescription
		res     *ua.CreateSessionResponse
		used    *ua.EndpointDescription
		wantErr error
	}{
		{"same list, other order", listed, &ua.CreateSessionResponse{ServerCertificate: cert, ServerEndpoints: reordered}, sign, nil},
		{"secure endpoint stripped before", []*ua.EndpointDescription{sign}, &ua.CreateSessionResponse{ServerCertificate: cert, ServerEndpoints: listed}, sign, ErrEndpointsChanged},
		{"token policy rewritten before", rewrittenToken, &ua.CreateSessionResponse{ServerCertificate: cert, ServerEndpoints: listed}, rewrittenToken[1], ErrEndpointsChanged},
		{"other certificate", listed, &ua.CreateSessionResponse{ServerCertificate: otherCert, ServerEndpoints: listed}, sign, ErrServerCertChanged},
		{"certificate for another application", []*ua.EndpointDescription{wrongURI}, &ua.CreateSessionResponse{ServerCertificate: cert, ServerEndpoints: []*ua.EndpointDescription{wrongURI}}, wrongURI, pki.ErrURIInvalid},
		{"no GetEndpoints", nil, &ua.CreateSessionResponse{ServerCertificate: cert}, sign, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkCreateSession(tt.used, tt.eps, tt.res)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("checkCreateSession = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
