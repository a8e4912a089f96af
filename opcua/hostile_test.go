package opcua

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/hostile"
	"factorybridge/pki"
)

// What a hostile server sends through gopcua must cost the bridge one
// failed session, never the process (issue 12, point 9), and never a
// credential (points 2 and 3). The server: internal/testenv/hostile.

var hostileCounter = "nsu=" + hostile.NamespaceURI + ";s=" + hostile.Counter

// hostileClient returns a client of srv with a fresh PKI store that trusts
// srv's certificate (when it has one).
func hostileClient(t *testing.T, srv *hostile.Server, edit func(*Options), sink *recordSink, logs *testenv.Logs) *Client {
	t.Helper()
	opts := testOptions(testServer("hostile", srv.Endpoint, hostileCounter), sink, logs)
	if srv.Cert != nil {
		store := pki.Store{Dir: filepath.Join(t.TempDir(), "pki")}
		own, _, err := store.Own("urn:test-bridge:factorybridge", "localhost")
		must(t, err)
		must(t, os.WriteFile(filepath.Join(store.Dir, pki.TrustedDir, pki.FileName(srv.Cert)), srv.Cert.Raw, 0o644))
		opts.Certificate, opts.PrivateKey, opts.ApplicationURI = own.DER(), own.Key, own.ApplicationURI()
		opts.VerifyServerCert = (&pki.Verifier{Store: store, Server: "hostile", Host: "127.0.0.1", Logger: logs.Logger()}).Verify
	}
	if edit != nil {
		edit(&opts)
	}
	return newClient(t, opts)
}

// TestHostileNegativeArray: the server's NamespaceArray arrives with array
// length -2, which panicked in gopcua's receive goroutine (no recover
// possible, the whole process died). The session fails and is retried.
func TestHostileNegativeArray(t *testing.T) {
	srv := hostile.Start(t, hostile.Options{NegativeArray: true})
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := hostileClient(t, srv, nil, sink, logs)
	runClient(t, c)
	refused(t, c, sink, logs, "StatusBadDecodingError")
	testenv.Wait(t, 10*time.Second, "a retry", func() bool { return len(logs.Records("reconnect attempt failed")) > 0 })
}

// TestHostileHugeAck: the handshake reply announces 2 GiB buffers and no
// limits. gopcua took them as its own receive limits and allocated 2 GiB
// per message; the client now keeps its own, and works.
func TestHostileHugeAck(t *testing.T) {
	srv := hostile.Start(t, hostile.Options{HugeAck: true})
	sink, logs := newRecordSink(), &testenv.Logs{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	runClient(t, hostileClient(t, srv, nil, sink, logs))
	sink.waitFor(t, 20*time.Second, "readings despite the huge ACK", someData)
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<20 {
		t.Errorf("connecting allocated %d MiB", grown>>20)
	}
}

// TestHostileBadSessionSignature: the CreateSession response's signature
// does not verify. gopcua returned neither a session nor an error and then
// crashed on the nil session; the session now fails with the reason.
func TestHostileBadSessionSignature(t *testing.T) {
	srv := hostile.Start(t, hostile.Options{Secure: true, BadSessionSignature: true})
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := hostileClient(t, srv, func(o *Options) { o.SecurityPolicy, o.SecurityMode = "Basic256Sha256", "SignAndEncrypt" }, sink, logs)
	runClient(t, c)
	refused(t, c, sink, logs, "verify session signature")
}

// TestHostileRewrittenEndpoints: a man in the middle rewrites the
// unauthenticated GetEndpoints answer. Whatever it does, the password is
// never sent: ActivateSession is never called.
func TestHostileRewrittenEndpoints(t *testing.T) {
	dropEncrypt := func(eps []*ua.EndpointDescription) []*ua.EndpointDescription {
		var out []*ua.EndpointDescription
		for _, ep := range eps {
			if ep.SecurityMode != ua.MessageSecurityModeSignAndEncrypt {
				out = append(out, ep)
			}
		}
		return out
	}
	plainToken := func(eps []*ua.EndpointDescription) []*ua.EndpointDescription {
		eps = dropEncrypt(eps)
		for _, ep := range eps {
			for _, tok := range ep.UserIdentityTokens {
				tok.SecurityPolicyURI = ua.SecurityPolicyURINone
			}
		}
		return eps
	}
	onlyNone := func(eps []*ua.EndpointDescription) []*ua.EndpointDescription {
		var out []*ua.EndpointDescription
		for _, ep := range eps {
			if ep.SecurityMode == ua.MessageSecurityModeNone {
				out = append(out, ep)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		rewrite func([]*ua.EndpointDescription) []*ua.EndpointDescription
		want    string
	}{
		{"SignAndEncrypt stripped", dropEncrypt, ErrEndpointsChanged.Error()},
		{"token policy None", plainToken, "refusing to send the password without encryption"},
		{"only security None left", onlyNone, "the server offers no endpoint with security_policy auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hostile.Start(t, hostile.Options{Secure: true, RefuseActivation: true, RewriteEndpoints: tt.rewrite})
			sink, logs := newRecordSink(), &testenv.Logs{}
			c := hostileClient(t, srv, func(o *Options) {
				o.SecurityPolicy, o.SecurityMode = Auto, Auto
				o.Auth, o.Username, o.Password = "username", "operator", "s3cret"
			}, sink, logs)
			runClient(t, c)
			refused(t, c, sink, logs, tt.want)
			if n := srv.Activations(); n != 0 {
				t.Errorf("ActivateSession called %d times: the password went out", n)
			}
		})
	}
}

// TestHostileUnrewrittenEndpoints is the control of
// TestHostileRewrittenEndpoints: with the list intact the client gets as
// far as ActivateSession (which this server refuses).
func TestHostileUnrewrittenEndpoints(t *testing.T) {
	srv := hostile.Start(t, hostile.Options{Secure: true, RefuseActivation: true})
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := hostileClient(t, srv, func(o *Options) {
		o.SecurityPolicy, o.SecurityMode = Auto, Auto
		o.Auth, o.Username, o.Password = "username", "operator", "s3cret"
	}, sink, logs)
	runClient(t, c)
	refused(t, c, sink, logs, "BadIdentityTokenRejected")
	if srv.Activations() == 0 {
		t.Error("ActivateSession never called")
	}
}
