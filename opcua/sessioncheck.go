package opcua

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gopcua/opcua/ua"

	"factorybridge/pki"
)

// Named errors of the check of a CreateSession response, for errors.Is.
var (
	// ErrEndpointsChanged: the endpoints the server returned over the
	// secure channel differ from those the unauthenticated GetEndpoints
	// listed; a man in the middle may have rewritten the list.
	ErrEndpointsChanged = errors.New("server endpoints changed")
	// ErrServerCertChanged: the certificate in the CreateSession response
	// is not the one the secure channel was opened with.
	ErrServerCertChanged = errors.New("server certificate changed")
)

// checkSession returns the check gopcua runs on the CreateSession response
// of a session on ep, chosen from eps (nil when GetEndpoints was not
// called), before it activates the session and sends any credential
// (OPC 10000-4 §5.5.1, §5.7.2). It also warns, from the authenticated list,
// when the server offers better security than ep.
func (s *session) checkSession(ep *ua.EndpointDescription, eps []*ua.EndpointDescription) func(*ua.CreateSessionResponse) error {
	return func(res *ua.CreateSessionResponse) error {
		if err := checkCreateSession(ep, eps, res); err != nil {
			return err
		}
		if secured(ep) {
			s.c.warnWeak(ep, res.ServerEndpoints)
		}
		return nil
	}
}

func secured(ep *ua.EndpointDescription) bool { return shortPolicy(ep.SecurityPolicyURI) != "None" }

// checkCreateSession compares the response with what the unauthenticated
// GetEndpoints said: the same certificate, the same endpoints, and a
// certificate for the application URI the server announces.
func checkCreateSession(ep *ua.EndpointDescription, eps []*ua.EndpointDescription, res *ua.CreateSessionResponse) error {
	if secured(ep) && !bytes.Equal(res.ServerCertificate, ep.ServerCertificate) {
		return fmt.Errorf("%w: the CreateSession response carries the certificate %s, not %s, with which the secure channel was opened",
			ErrServerCertChanged, thumbprint(res.ServerCertificate), thumbprint(ep.ServerCertificate))
	}
	if eps == nil {
		return nil
	}
	if diff := endpointDiff(eps, res.ServerEndpoints); diff != "" {
		return fmt.Errorf("%w: the endpoints the server returned over the secure channel differ from those GetEndpoints listed "+
			"without security (%s): a man in the middle may have rewritten them", ErrEndpointsChanged, diff)
	}
	if !secured(ep) {
		return nil
	}
	return checkAppURI(ep)
}

// checkAppURI checks that the certificate is for the application URI of
// the endpoint, which the comparison of the lists has authenticated.
func checkAppURI(ep *ua.EndpointDescription) error {
	certs, err := x509.ParseCertificates(ep.ServerCertificate)
	if err != nil || len(certs) == 0 {
		return fmt.Errorf("%w: parse the server certificate: %v", pki.ErrInvalid, err)
	}
	uri := ""
	if ep.Server != nil {
		uri = ep.Server.ApplicationURI
	}
	if !pki.HasURI(certs[0], uri) {
		return fmt.Errorf("%w: certificate %s is for application URI %v, but the server says over the secure channel that it is %q",
			pki.ErrURIInvalid, thumbprint(ep.ServerCertificate), certs[0].URIs, uri)
	}
	return nil
}

// endpointDiff describes how two endpoint lists differ in the fields the
// specification compares (application URI, endpoint URL, security mode and
// policy, user token policies, transport profile, security level), in any
// order; "" when they do not.
func endpointDiff(a, b []*ua.EndpointDescription) string {
	ka, kb := endpointKeys(a), endpointKeys(b)
	var onlyA, onlyB []string
	for _, k := range ka {
		if i := slices.Index(kb, k); i >= 0 {
			kb = slices.Delete(kb, i, i+1)
		} else {
			onlyA = append(onlyA, k)
		}
	}
	onlyB = kb
	if len(onlyA) == 0 && len(onlyB) == 0 {
		return ""
	}
	return fmt.Sprintf("only before: [%s]; only over the secure channel: [%s]", strings.Join(onlyA, "; "), strings.Join(onlyB, "; "))
}

func endpointKeys(eps []*ua.EndpointDescription) []string {
	var keys []string
	for _, ep := range eps {
		keys = append(keys, endpointKey(ep))
	}
	return keys
}

// endpointKey is an endpoint's compared fields, readable in messages.
func endpointKey(ep *ua.EndpointDescription) string {
	app := ""
	if ep.Server != nil {
		app = ep.Server.ApplicationURI
	}
	var tokens []string
	for _, t := range ep.UserIdentityTokens {
		tokens = append(tokens, fmt.Sprintf("%s:%s(%s,%s,%s)", t.PolicyID, tokenNames[t.TokenType],
			shortPolicy(t.SecurityPolicyURI), t.IssuedTokenType, t.IssuerEndpointURL))
	}
	slices.Sort(tokens)
	return fmt.Sprintf("%s/%s %s %s level %d %s tokens [%s]", shortPolicy(ep.SecurityPolicyURI), modeName(ep.SecurityMode),
		ep.EndpointURL, app, ep.SecurityLevel, ep.TransportProfileURI, strings.Join(tokens, " "))
}

// thumbprint is the SHA-1 thumbprint of the first certificate of der, or a
// note that there is none.
func thumbprint(der []byte) string {
	certs, err := x509.ParseCertificates(der)
	if err != nil || len(certs) == 0 {
		return "(none)"
	}
	return pki.Thumbprint(certs[0].Raw)
}
