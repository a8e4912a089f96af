package opcua

import (
	"context"
	"fmt"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"

	"factorybridge/config"
)

var securityModes = map[string]ua.MessageSecurityMode{
	"":               ua.MessageSecurityModeNone,
	"None":           ua.MessageSecurityModeNone,
	"Sign":           ua.MessageSecurityModeSign,
	"SignAndEncrypt": ua.MessageSecurityModeSignAndEncrypt,
}

// securityPolicies are the policy names of the configuration: the fragments
// of the policy URIs, which gopcua's SelectEndpoint completes with the prefix.
var securityPolicies = map[string]bool{
	"None": true, "Basic128Rsa15": true, "Basic256": true, "Basic256Sha256": true,
	"Aes128_Sha256_RsaOaep": true, "Aes256_Sha256_RsaPss": true,
}

// checkSecurity rejects settings New cannot turn into gopcua options.
func checkSecurity(srv config.Server) error {
	if srv.Endpoint == "" {
		return fmt.Errorf("endpoint is required")
	}
	if _, ok := securityModes[srv.SecurityMode]; !ok {
		return fmt.Errorf("unknown security_mode %q (None, Sign, SignAndEncrypt)", srv.SecurityMode)
	}
	if !securityPolicies[policyName(srv)] {
		return fmt.Errorf("unknown security_policy %q (None, Basic128Rsa15, Basic256, Basic256Sha256, "+
			"Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss)", srv.SecurityPolicy)
	}
	if srv.Auth != "" && srv.Auth != "anonymous" && srv.Auth != "username" {
		return fmt.Errorf("unknown auth %q (anonymous, username)", srv.Auth)
	}
	return nil
}

func policyName(srv config.Server) string {
	if srv.SecurityPolicy == "" {
		return "None"
	}
	return srv.SecurityPolicy
}

// clientOptions returns the gopcua options of one session. AutoReconnect is
// off: gopcua's own reconnect races ours and is buggy at v0.9.x (see
// /work/shared/reference/gopcua.md); a failed gopcua client is thrown away.
func (s *session) clientOptions(ctx context.Context) ([]opcua.Option, error) {
	rt := s.c.requestTimeout()
	opts := []opcua.Option{
		opcua.AutoReconnect(false),
		opcua.RequestTimeout(rt),
		opcua.DialTimeout(rt),
		opcua.StateChangedFunc(s.onState),
	}
	sec, err := s.securityOptions(ctx)
	return append(opts, sec...), err
}

// securityOptions picks the endpoint matching the configured policy and mode
// and sets the credentials. Security None with anonymous auth needs no
// endpoint: gopcua takes the anonymous policy id from CreateSession.
func (s *session) securityOptions(ctx context.Context) ([]opcua.Option, error) {
	srv := s.c.srv
	policy, user := policyName(srv), srv.Auth == "username"
	if policy == "None" && !user {
		return nil, nil
	}
	ep, err := s.endpoint(ctx, policy, securityModes[srv.SecurityMode])
	if err != nil {
		return nil, err
	}
	if verify := s.c.opts.VerifyServerCert; verify != nil && policy != "None" {
		if err := verify(ep.ServerCertificate); err != nil {
			return nil, fmt.Errorf("verify server certificate: %w", err)
		}
	}
	var opts []opcua.Option
	if policy != "None" {
		opts = append(opts, opcua.CertificateFile(srv.Certificate), opcua.PrivateKeyFile(srv.Key))
	}
	auth := ua.UserTokenTypeAnonymous
	if user {
		auth = ua.UserTokenTypeUserName
		opts = append(opts, opcua.AuthUsername(srv.Username, srv.Password.Value()))
	}
	return append(opts, opcua.SecurityFromEndpoint(ep, auth)), nil
}

// endpoint asks the server for its endpoints (on a separate, short-lived
// connection) and selects the one with the configured policy and mode.
func (s *session) endpoint(ctx context.Context, policy string, mode ua.MessageSecurityMode) (*ua.EndpointDescription, error) {
	rt := s.c.requestTimeout()
	eps, err := opcua.GetEndpoints(ctx, s.c.srv.Endpoint, opcua.RequestTimeout(rt), opcua.DialTimeout(rt))
	if err != nil {
		return nil, fmt.Errorf("get endpoints: %w", err)
	}
	ep, err := opcua.SelectEndpoint(eps, policy, mode)
	if err != nil {
		return nil, fmt.Errorf("select endpoint: %w", err)
	}
	return ep, nil
}
