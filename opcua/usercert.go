package opcua

import (
	"fmt"

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
// token of o's auth method.
func credentialOptions(o *Options) ([]opcua.Option, error) {
	switch authTokens[o.Auth] {
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
