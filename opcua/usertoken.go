package opcua

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gopcua/opcua/ua"
)

// errPlaintextPassword refuses to send a password that nothing would
// encrypt: the channel does not encrypt and the server's token policy says
// None (a man in the middle who rewrote the unauthenticated endpoint list
// can make it say so).
var errPlaintextPassword = errors.New("refusing to send the password without encryption: the channel does not encrypt " +
	"(security mode None or Sign) and no user token policy of the endpoint encrypts it; use security_mode = SignAndEncrypt, " +
	"or allow_plaintext_password = true on a network you trust")

// tokenSecurity is the security policy that protects a user token: its
// policy's own, or the channel's when the token policy names none.
func tokenSecurity(ep *ua.EndpointDescription, p *ua.UserTokenPolicy) string {
	if p.SecurityPolicyURI != "" {
		return p.SecurityPolicyURI
	}
	return ep.SecurityPolicyURI
}

// userTokenPolicy picks the endpoint's token policy for o's auth method. A
// password is only sent encrypted: over SignAndEncrypt, or with a token
// policy that encrypts it (never over security mode None, where nothing
// authenticates the server's key the token would be encrypted with),
// unless AllowPlaintextPassword.
func userTokenPolicy(o *Options, ep *ua.EndpointDescription) (*ua.UserTokenPolicy, error) {
	t := authTokens[o.Auth]
	var offered []*ua.UserTokenPolicy
	for _, p := range ep.UserIdentityTokens {
		if p.TokenType == t {
			offered = append(offered, p)
		}
	}
	if len(offered) == 0 {
		return nil, notOffered(ep, t)
	}
	if t != ua.UserTokenTypeUserName || o.AllowPlaintextPassword || ep.SecurityMode == ua.MessageSecurityModeSignAndEncrypt {
		return offered[0], nil
	}
	if ep.SecurityMode == ua.MessageSecurityModeSign {
		for _, p := range offered {
			if shortPolicy(tokenSecurity(ep, p)) != "None" {
				return p, nil
			}
		}
	}
	return nil, errPlaintextPassword
}

// withToken returns a copy of ep offering only the token policy p, so that
// gopcua's SecurityFromEndpoint, which takes the first policy of a token
// type, takes p.
func withToken(ep *ua.EndpointDescription, p *ua.UserTokenPolicy) *ua.EndpointDescription {
	cp := *ep
	cp.UserIdentityTokens = []*ua.UserTokenPolicy{p}
	return &cp
}

// notOffered says that the endpoint lists no user token policy of type t:
// gopcua would otherwise send a token without a policy id, which the server
// refuses with a less helpful status.
func notOffered(ep *ua.EndpointDescription, t ua.UserTokenType) error {
	var offered []string
	for _, p := range ep.UserIdentityTokens {
		offered = append(offered, tokenNames[p.TokenType])
	}
	slices.Sort(offered)
	return fmt.Errorf("the server offers no %s login on endpoint %s/%s (it offers: %s)", tokenNames[t],
		shortPolicy(ep.SecurityPolicyURI), modeName(ep.SecurityMode), strings.Join(slices.Compact(offered), ", "))
}
