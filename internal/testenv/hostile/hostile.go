// Package hostile is an OPC UA server written in Go that sends, on
// purpose, what a well-behaved server never does, for the bridge's tests of
// issue 12: a malformed variant, a handshake reply announcing huge buffers,
// an endpoint list rewritten as a man in the middle would, a session
// signature that does not verify. It is gopcua's server behind a front that
// rewrites the bytes the client sees; the open62541 simulator plays every
// well-behaved part.
package hostile

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uasc"

	"factorybridge/internal/testenv"
)

// AppURI is the server's application URI, in its certificate.
const AppURI = "urn:factorybridge:hostile"

// NamespaceURI is the namespace of Counter.
const NamespaceURI = "urn:factorybridge:hostile-go"

// Counter is the node id (string, in NamespaceURI) of an Int32 that counts
// up every 100 ms: the data a working session delivers.
const Counter = "counter"

// Options choose what the server does wrong; the zero value is a
// well-behaved server with security None, anonymous.
type Options struct {
	// Secure adds Basic256Sha256 Sign and SignAndEncrypt endpoints, with a
	// certificate for AppURI, 127.0.0.1 and localhost, and username logins
	// (any name and password).
	Secure bool
	// BadSessionSignature answers CreateSession with a server signature
	// that does not verify (Secure only).
	BadSessionSignature bool
	// RewriteEndpoints rewrites the endpoints GetEndpoints returns, as a man
	// in the middle can since GetEndpoints is not secured, and leaves those
	// CreateSession returns as they are.
	RewriteEndpoints func([]*ua.EndpointDescription) []*ua.EndpointDescription
	// RefuseActivation answers ActivateSession with
	// BadIdentityTokenRejected and counts the calls (Activations): for
	// tests that a client never got that far.
	RefuseActivation bool
	// HugeAck makes the client see a handshake reply (ACK) announcing 2 GiB
	// buffers and no message or chunk limit.
	HugeAck bool
	// NegativeArray makes the client see array length -2 in the
	// NamespaceArray it reads at connect (security None only: the bytes
	// are rewritten on the wire).
	NegativeArray bool
}

// Server is a running hostile server, stopped when the test ends (after
// the test's clients, which tests register later).
type Server struct {
	// Endpoint is the URL clients connect to.
	Endpoint string
	// Cert is the server's certificate (Secure only), for trust lists.
	Cert *x509.Certificate

	srv         *server.Server
	activations atomic.Int32
	counter     atomic.Int32
}

// Start starts a hostile server on 127.0.0.1.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	frontPort, backPort := testenv.FreePort(t), testenv.FreePort(t)
	s := &Server{Endpoint: fmt.Sprintf("opc.tcp://127.0.0.1:%d", frontPort)}
	// The first endpoint is where gopcua listens; the second is the one
	// clients use (through the front), which GetEndpoints and CreateSession
	// match against the URL the client sends.
	srvOpts := []server.Option{
		server.EndPoint("127.0.0.1", backPort), server.EndPoint("127.0.0.1", frontPort),
		server.EnableSecurity("None", ua.MessageSecurityModeNone),
		server.EnableAuthMode(ua.UserTokenTypeAnonymous),
	}
	if opts.Secure {
		cert, key := certificate(t)
		s.Cert = cert
		srvOpts = append(srvOpts, server.Certificate(cert.Raw), server.PrivateKey(key),
			server.EnableSecurity("Basic256Sha256", ua.MessageSecurityModeSign),
			server.EnableSecurity("Basic256Sha256", ua.MessageSecurityModeSignAndEncrypt),
			server.EnableAuthMode(ua.UserTokenTypeUserName))
	}
	s.srv = server.New(srvOpts...)
	ns := s.addCounter()
	s.register(opts)
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.srv.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start hostile server: %v", err)
	}
	front := startFront(t, fmt.Sprintf("127.0.0.1:%d", frontPort), fmt.Sprintf("127.0.0.1:%d", backPort), opts)
	done := make(chan struct{})
	go s.count(ctx, ns, done)
	t.Cleanup(func() {
		front.close()
		cancel()
		<-done
		s.srv.Close()
	})
	return s
}

// Activations is how many ActivateSession requests RefuseActivation saw.
func (s *Server) Activations() int { return int(s.activations.Load()) }

// register installs the misbehaving handlers before Start (gopcua keeps the
// first handler registered for a service).
func (s *Server) register(opts Options) {
	if opts.BadSessionSignature {
		s.srv.RegisterHandler(id.CreateSessionRequest_Encoding_DefaultBinary, s.badSignature)
	}
	if rewrite := opts.RewriteEndpoints; rewrite != nil {
		s.srv.RegisterHandler(id.GetEndpointsRequest_Encoding_DefaultBinary,
			func(_ *uasc.SecureChannel, r ua.Request, _ uint32) (ua.Response, error) {
				req := r.(*ua.GetEndpointsRequest)
				return &ua.GetEndpointsResponse{ResponseHeader: header(req.RequestHeader),
					Endpoints: rewrite(s.endpoints(req.EndpointURL))}, nil
			})
	}
	if opts.RefuseActivation {
		s.srv.RegisterHandler(id.ActivateSessionRequest_Encoding_DefaultBinary,
			func(*uasc.SecureChannel, ua.Request, uint32) (ua.Response, error) {
				s.activations.Add(1)
				return nil, ua.StatusBadIdentityTokenRejected
			})
	}
}

// badSignature answers CreateSession as a server would, except that the
// signature over the client's certificate and nonce is zeros.
func (s *Server) badSignature(_ *uasc.SecureChannel, r ua.Request, _ uint32) (ua.Response, error) {
	req := r.(*ua.CreateSessionRequest)
	return &ua.CreateSessionResponse{
		ResponseHeader: header(req.RequestHeader),
		SessionID:      ua.NewNumericNodeID(1, 1), AuthenticationToken: ua.NewNumericNodeID(1, 2),
		RevisedSessionTimeout: 60000, ServerNonce: make([]byte, 32), ServerCertificate: s.Cert.Raw,
		ServerEndpoints: s.endpoints(req.EndpointURL),
		ServerSignature: &ua.SignatureData{Algorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", Signature: make([]byte, 256)},
	}, nil
}

// endpoints returns copies of the server's endpoints for url, which a
// rewrite may change freely.
func (s *Server) endpoints(url string) []*ua.EndpointDescription {
	var out []*ua.EndpointDescription
	for _, ep := range s.srv.Endpoints() {
		if ep.EndpointURL != url {
			continue
		}
		cp := *ep
		cp.UserIdentityTokens = nil
		for _, tok := range ep.UserIdentityTokens {
			t := *tok
			cp.UserIdentityTokens = append(cp.UserIdentityTokens, &t)
		}
		out = append(out, &cp)
	}
	return out
}

func header(req *ua.RequestHeader) *ua.ResponseHeader {
	return &ua.ResponseHeader{Timestamp: time.Now(), RequestHandle: req.RequestHandle,
		ServiceDiagnostics: &ua.DiagnosticInfo{}, AdditionalHeader: ua.NewExtensionObject(nil)}
}

// addCounter adds NamespaceURI with the Counter variable.
func (s *Server) addCounter() *server.NodeNameSpace {
	ns := server.NewNodeNameSpace(s.srv, NamespaceURI)
	value := func() *ua.DataValue {
		return &ua.DataValue{EncodingMask: ua.DataValueValue | ua.DataValueSourceTimestamp | ua.DataValueServerTimestamp,
			Value: ua.MustVariant(s.counter.Load()), SourceTimestamp: time.Now(), ServerTimestamp: time.Now()}
	}
	access := server.DataValueFromValue(uint8(ua.AccessLevelTypeCurrentRead))
	n := ns.AddNode(server.NewNode(ua.NewStringNodeID(ns.ID(), Counter), server.Attributes{
		ua.AttributeIDNodeClass:       server.DataValueFromValue(int32(ua.NodeClassVariable)),
		ua.AttributeIDBrowseName:      server.DataValueFromValue(&ua.QualifiedName{NamespaceIndex: ns.ID(), Name: Counter}),
		ua.AttributeIDDisplayName:     server.DataValueFromValue(&ua.LocalizedText{EncodingMask: ua.LocalizedTextText, Text: Counter}),
		ua.AttributeIDDataType:        server.DataValueFromValue(ua.NewNumericNodeID(0, id.Int32)),
		ua.AttributeIDValueRank:       server.DataValueFromValue(int32(-1)),
		ua.AttributeIDAccessLevel:     access,
		ua.AttributeIDUserAccessLevel: access,
	}, nil, value))
	s.srv.Node(ua.NewNumericNodeID(0, id.ObjectsFolder)).AddRef(n, id.Organizes, true)
	return ns
}

// count advances Counter every 100 ms until ctx ends, then closes done.
func (s *Server) count(ctx context.Context, ns *server.NodeNameSpace, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.counter.Add(1)
			s.srv.ChangeNotification(ua.NewStringNodeID(ns.ID(), Counter))
		}
	}
}

// certificate makes the server's self-signed application certificate.
func certificate(t testing.TB) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(AppURI)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "hostile"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{u}, DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}
