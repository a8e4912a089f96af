package opcua

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"

	"factorybridge/pki"
)

// authTokens maps the auth setting to the user identity token it sends.
var authTokens = map[string]ua.UserTokenType{
	"":            ua.UserTokenTypeAnonymous,
	"anonymous":   ua.UserTokenTypeAnonymous,
	"username":    ua.UserTokenTypeUserName,
	"certificate": ua.UserTokenTypeCertificate,
}

// tokenNames are the auth setting's names of the token types, for messages.
var tokenNames = map[ua.UserTokenType]string{
	ua.UserTokenTypeAnonymous:   "anonymous",
	ua.UserTokenTypeUserName:    "username",
	ua.UserTokenTypeCertificate: "certificate",
	ua.UserTokenTypeIssuedToken: "issued token",
}

// checkAuth rejects an auth setting New cannot turn into a user token.
func checkAuth(o *Options) error {
	if _, ok := authTokens[o.Auth]; !ok {
		return fmt.Errorf("unknown auth %q (anonymous, username, certificate)", o.Auth)
	}
	if o.Auth == "certificate" && (o.UserCertificate == "" || o.UserKey == "") {
		return fmt.Errorf("auth certificate needs user_certificate and user_key")
	}
	return nil
}

// credentialOptions are the gopcua options that fill the user identity
// token of o's auth method, which endpoint ep must offer.
func credentialOptions(o *Options, ep *ua.EndpointDescription) ([]opcua.Option, error) {
	auth := authTokens[o.Auth]
	if auth == ua.UserTokenTypeAnonymous {
		return nil, nil
	}
	if err := checkTokenOffered(ep, auth); err != nil {
		return nil, err
	}
	switch auth {
	case ua.UserTokenTypeUserName:
		return []opcua.Option{opcua.AuthUsername(o.Username, o.Password.Value())}, nil
	case ua.UserTokenTypeCertificate:
		return userCertOptions(o)
	}
	return nil, nil
}

// userCertOptions loads the X.509 user certificate and its key, at every
// connection attempt so that a renewed certificate is used without a
// restart. gopcua sends the certificate in the X509IdentityToken and signs
// the server's certificate and nonce with the key, using the security policy
// of the server's token policy (or of the channel); the key never leaves.
func userCertOptions(o *Options) ([]opcua.Option, error) {
	id, err := pki.LoadIdentity(o.UserCertificate, o.UserKey)
	if err != nil {
		return nil, fmt.Errorf("user certificate: %w", err)
	}
	return []opcua.Option{opcua.AuthCertificate(id.DER()), opcua.AuthPrivateKey(id.Key)}, nil
}

// checkTokenOffered fails when the endpoint lists no user token policy of
// type t: gopcua would otherwise send a token without a policy id, which the
// server refuses with a less helpful status.
func checkTokenOffered(ep *ua.EndpointDescription, t ua.UserTokenType) error {
	var offered []string
	for _, p := range ep.UserIdentityTokens {
		if p.TokenType == t {
			return nil
		}
		offered = append(offered, tokenNames[p.TokenType])
	}
	slices.Sort(offered)
	return fmt.Errorf("the server offers no %s login on endpoint %s/%s (it offers: %s)", tokenNames[t],
		shortPolicy(ep.SecurityPolicyURI), modeName(ep.SecurityMode), strings.Join(slices.Compact(offered), ", "))
}
