package opcua

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uasc"
)

// patchCert makes a self-signed RSA-2048 application certificate for uri.
func patchCert(t *testing.T, uri string) ([]byte, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(uri)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "patch-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{u}, DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

// patchServer starts a gopcua server on a free loopback port offering
// Basic256Sha256/Sign and None, with handlers replacing the default ones,
// and returns its endpoint URL.
func patchServer(t *testing.T, handlers map[uint16]server.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cert, key := patchCert(t, "urn:gopcua:patch:server")
	s := server.New(
		server.EnableSecurity("None", ua.MessageSecurityModeNone),
		server.EnableSecurity("Basic256Sha256", ua.MessageSecurityModeSign),
		server.EnableAuthMode(ua.UserTokenTypeAnonymous),
		server.EndPoint("127.0.0.1", port),
		server.PrivateKey(key), server.Certificate(cert),
	)
	for typeID, h := range handlers {
		s.RegisterHandler(typeID, h)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return "opc.tcp://127.0.0.1:" + itoa(port)
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// patchEndpoint lists the server's endpoints and returns the one of mode,
// waiting for the listener to answer.
func patchEndpoint(t *testing.T, ctx context.Context, endpoint string, mode ua.MessageSecurityMode) *ua.EndpointDescription {
	t.Helper()
	for {
		eps, err := GetEndpoints(ctx, endpoint)
		if err == nil {
			for _, ep := range eps {
				if ep.SecurityMode == mode {
					return ep
				}
			}
			t.Fatalf("no endpoint with mode %s", mode)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("server never answered: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestPatchBadSessionSignature: a server whose CreateSession response
// carries a signature that does not verify. CreateSession used to log and
// return neither a session nor an error, and Connect then crashed on the nil
// session in ActivateSession. Connect must fail with the reason instead.
func TestPatchBadSessionSignature(t *testing.T) {
	badSignature := func(sc *uasc.SecureChannel, r ua.Request, _ uint32) (ua.Response, error) {
		req := r.(*ua.CreateSessionRequest)
		return &ua.CreateSessionResponse{
			ResponseHeader: &ua.ResponseHeader{Timestamp: time.Now(), RequestHandle: req.RequestHeader.RequestHandle,
				ServiceDiagnostics: &ua.DiagnosticInfo{}, AdditionalHeader: ua.NewExtensionObject(nil)},
			SessionID: ua.NewNumericNodeID(1, 1), AuthenticationToken: ua.NewNumericNodeID(1, 2),
			RevisedSessionTimeout: 60000, ServerNonce: make([]byte, 32),
			ServerSignature: &ua.SignatureData{Algorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", Signature: make([]byte, 256)},
		}, nil
	}
	endpoint := patchServer(t, map[uint16]server.Handler{id.CreateSessionRequest_Encoding_DefaultBinary: badSignature})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ep := patchEndpoint(t, ctx, endpoint, ua.MessageSecurityModeSign)
	cert, key := patchCert(t, "urn:gopcua:patch:client")
	c, err := NewClient(endpoint, SecurityFromEndpoint(ep, ua.UserTokenTypeAnonymous), Certificate(cert), PrivateKey(key), AutoReconnect(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	err = c.Connect(ctx)
	if err == nil || !strings.Contains(err.Error(), "verify session signature") {
		t.Fatalf("Connect = %v, want a session signature error", err)
	}
}

// TestPatchVerifySession: the VerifySession function sees the
// CreateSession response, with the server's endpoints and certificate,
// before the session is activated; its error fails Connect and no session
// is left behind.
func TestPatchVerifySession(t *testing.T) {
	endpoint := patchServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ep := patchEndpoint(t, ctx, endpoint, ua.MessageSecurityModeSign)
	cert, key := patchCert(t, "urn:gopcua:patch:client")
	refused := errors.New("refused by the test")
	var seen *ua.CreateSessionResponse
	verify := func(res *ua.CreateSessionResponse) error { seen = res; return refused }
	c, err := NewClient(endpoint, SecurityFromEndpoint(ep, ua.UserTokenTypeAnonymous), Certificate(cert), PrivateKey(key),
		AutoReconnect(false), VerifySession(verify))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.Connect(ctx); !errors.Is(err, refused) {
		t.Fatalf("Connect = %v, want the verifier's error", err)
	}
	if seen == nil || len(seen.ServerEndpoints) == 0 || !bytes.Equal(seen.ServerCertificate, ep.ServerCertificate) {
		t.Fatalf("the verifier saw %+v, want the server's endpoints and certificate", seen)
	}
	if c.Session() != nil {
		t.Error("a session was activated although the verifier refused it")
	}

	ok, err := NewClient(endpoint, SecurityFromEndpoint(ep, ua.UserTokenTypeAnonymous), Certificate(cert), PrivateKey(key),
		AutoReconnect(false), VerifySession(func(*ua.CreateSessionResponse) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	defer ok.Close(ctx)
	if err := ok.Connect(ctx); err != nil {
		t.Fatalf("Connect with an accepting verifier: %v", err)
	}
}
