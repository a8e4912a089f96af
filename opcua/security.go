package opcua

import (
	"context"
	"fmt"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
)

var securityModes = map[string]ua.MessageSecurityMode{
	"":               ua.MessageSecurityModeNone,
	"None":           ua.MessageSecurityModeNone,
	"Sign":           ua.MessageSecurityModeSign,
	"SignAndEncrypt": ua.MessageSecurityModeSignAndEncrypt,
	Auto:             ua.MessageSecurityModeInvalid,
}

// checkSecurity rejects settings New cannot turn into gopcua options.
func checkSecurity(o *Options) error {
	if o.Endpoint == "" {
		return fmt.Errorf("endpoint is required")
	}
	if _, ok := securityModes[o.SecurityMode]; !ok {
		return fmt.Errorf("unknown security_mode %q (None, Sign, SignAndEncrypt, auto)", o.SecurityMode)
	}
	if _, ok := policyRank[policyName(o)]; !ok && policyName(o) != Auto {
		return fmt.Errorf("unknown security_policy %q (None, Basic128Rsa15, Basic256, Basic256Sha256, "+
			"Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, auto)", o.SecurityPolicy)
	}
	return checkAuth(o)
}

func policyName(o *Options) string {
	if o.SecurityPolicy == "" {
		return "None"
	}
	return o.SecurityPolicy
}

func modeSetting(o *Options) string {
	if o.SecurityMode == "" {
		return "None"
	}
	return o.SecurityMode
}

// clientOptions returns the gopcua options of one session. AutoReconnect is
// off: gopcua's own reconnect takes an idle Publish's BadTimeout for a lost
// connection and gives up for good on a refused TCP connection; it would
// race ours (docs/architecture.md). A failed gopcua client is thrown away.
func (s *session) clientOptions(ctx context.Context) ([]opcua.Option, error) {
	rt := s.c.opts.RequestTimeout
	opts := []opcua.Option{
		opcua.AutoReconnect(false),
		opcua.RequestTimeout(rt),
		opcua.DialTimeout(rt),
		opcua.StateChangedFunc(s.onState),
	}
	if channelLifetime > 0 {
		opts = append(opts, opcua.Lifetime(channelLifetime))
	}
	sec, err := s.securityOptions(ctx)
	return append(opts, sec...), err
}

// securityOptions picks the endpoint matching the configured policy and mode
// (the strongest one for auto, never None), verifies the server's
// certificate, picks the user token policy and sets the credentials, and
// has gopcua check the CreateSession response against the endpoint list
// before the session is activated. Security None with anonymous auth needs
// no endpoint: gopcua takes the anonymous policy id from CreateSession.
func (s *session) securityOptions(ctx context.Context) ([]opcua.Option, error) {
	o := &s.c.opts
	auth := authTokens[o.Auth]
	s.c.security = "None/None"
	if policyName(o) == "None" && auth == ua.UserTokenTypeAnonymous {
		return nil, nil
	}
	ep, eps, err := s.endpoint(ctx)
	if err != nil {
		return nil, err
	}
	s.c.security = shortPolicy(ep.SecurityPolicyURI) + "/" + modeName(ep.SecurityMode)
	if auth == ua.UserTokenTypeUserName && ep.SecurityMode == ua.MessageSecurityModeNone && !o.AllowPlaintextPassword {
		return nil, errPlaintextPassword
	}
	token, err := userTokenPolicy(o, ep)
	if err != nil {
		return nil, err
	}
	if verify := s.c.opts.VerifyServerCert; verify != nil && secured(ep) {
		if err := verify(ep.ServerCertificate, ep.Server.ApplicationURI); err != nil {
			return nil, fmt.Errorf("verify server certificate: %w", err)
		}
	}
	var opts []opcua.Option
	if secured(ep) {
		opts = s.c.identityOptions()
	}
	creds, err := credentialOptions(o)
	if err != nil {
		return nil, err
	}
	opts = append(opts, creds...)
	return append(opts, opcua.SecurityFromEndpoint(withToken(ep, token), auth), opcua.VerifySession(s.checkSession(ep, eps))), nil
}

// identityOptions are the client's certificate, key and application URI:
// those of Options when set, else CertificateFile and KeyFile.
func (c *Client) identityOptions() []opcua.Option {
	if c.opts.Certificate == nil {
		return []opcua.Option{opcua.CertificateFile(c.opts.CertificateFile), opcua.PrivateKeyFile(c.opts.KeyFile)}
	}
	opts := []opcua.Option{opcua.Certificate(c.opts.Certificate), opcua.PrivateKey(c.opts.PrivateKey)}
	if c.opts.ApplicationURI != "" {
		opts = append(opts, opcua.ApplicationURI(c.opts.ApplicationURI))
	}
	return opts
}

// endpoint asks the server for its endpoints (on a separate, short-lived,
// unsecured connection), selects the one to use, and returns it with the
// list, which the CreateSession response must confirm. A secured session
// warns about weaker security than offered once the secure channel has
// confirmed the list; with security None nothing ever will, so it warns
// from this one.
func (s *session) endpoint(ctx context.Context) (ep *ua.EndpointDescription, eps []*ua.EndpointDescription, err error) {
	rt := s.c.opts.RequestTimeout
	eps, err = opcua.GetEndpoints(ctx, s.c.opts.Endpoint, opcua.RequestTimeout(rt), opcua.DialTimeout(rt))
	if err != nil {
		return nil, nil, fmt.Errorf("get endpoints: %w", err)
	}
	ep, err = pickEndpoint(eps, policyName(&s.c.opts), modeSetting(&s.c.opts))
	if err != nil {
		return nil, nil, err
	}
	if !secured(ep) {
		s.c.warnWeak(ep, eps)
	}
	return ep, eps, nil
}

// checkOffer asks, once per Client, a server reached without GetEndpoints
// (security None, anonymous) what it offers, to warn when it offers better.
// A failure only skips the warning.
func (s *session) checkOffer(ctx context.Context) {
	if s.c.offerChecked || policyName(&s.c.opts) != "None" {
		return
	}
	s.c.offerChecked = true
	ctx, cancel := context.WithTimeout(ctx, min(s.c.opts.RequestTimeout, maxCloseTime))
	defer cancel()
	res, err := s.ua.GetEndpoints(ctx)
	if err != nil {
		s.c.log.Debug("cannot list the server's endpoints", "err", err)
		return
	}
	used := &ua.EndpointDescription{SecurityPolicyURI: ua.SecurityPolicyURINone, SecurityMode: ua.MessageSecurityModeNone}
	s.c.warnWeak(used, res.Endpoints)
}

// warnWeak logs, once per Client, that the session uses a deprecated policy
// or no security while the server offers better.
func (c *Client) warnWeak(ep *ua.EndpointDescription, eps []*ua.EndpointDescription) {
	best := weaker(ep, eps)
	if best == nil || c.weakWarned {
		return
	}
	c.weakWarned = true
	c.log.Warn("OPC UA security weaker than the server offers; set security_policy and security_mode to the stronger pair, or auto",
		"using", shortPolicy(ep.SecurityPolicyURI)+"/"+modeName(ep.SecurityMode),
		"offered", shortPolicy(best.SecurityPolicyURI)+"/"+modeName(best.SecurityMode))
}
