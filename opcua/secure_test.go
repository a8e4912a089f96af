package opcua

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/pki"
)

// secureRig is a secure simulator that trusts the client's certificate, and
// the client's PKI store.
type secureRig struct {
	sim     *testenv.Simulator
	store   pki.Store
	own     *pki.Identity
	srvCert *x509.Certificate
	simDir  string // the simulator's cert.der and key.der
}

func newSecureRig(t *testing.T, spec testenv.ServerCert, users ...string) *secureRig {
	t.Helper()
	return newSecureRigWith(t, spec, testenv.SimSecurity{Users: users})
}

// newSecureRigWith is newSecureRig with the simulator's logins and user
// certificate trust of sec; its certificate, key and client trust list are
// the rig's.
func newSecureRigWith(t *testing.T, spec testenv.ServerCert, sec testenv.SimSecurity) *secureRig {
	t.Helper()
	return newSecureRigSim(t, spec, sec, testenv.SimOptions{LoadNodes: 2, Rate: 20})
}

// newSecureRigSim is newSecureRigWith with the simulator's other options
// of sim.
func newSecureRigSim(t *testing.T, spec testenv.ServerCert, sec testenv.SimSecurity, sim testenv.SimOptions) *secureRig {
	t.Helper()
	r := &secureRig{store: pki.Store{Dir: filepath.Join(t.TempDir(), "pki")}, simDir: t.TempDir()}
	own, _, err := r.store.Own("urn:test-bridge:factorybridge", "localhost")
	must(t, err)
	r.own = own
	sec.TrustDir = t.TempDir()
	must(t, os.WriteFile(filepath.Join(sec.TrustDir, "bridge.der"), own.DER(), 0o644))
	var cert *x509.Certificate
	sec.Cert, sec.Key, cert = testenv.WriteServerCert(t, r.simDir, spec)
	r.srvCert = cert
	sim.Secure = &sec
	r.sim = testenv.StartSimulator(t, sim)
	return r
}

// trustServer puts the simulator's current certificate into trusted/.
func (r *secureRig) trustServer(t *testing.T) {
	t.Helper()
	must(t, r.store.Init())
	must(t, os.WriteFile(filepath.Join(r.store.Dir, pki.TrustedDir, pki.FileName(r.srvCert)), r.srvCert.Raw, 0o644))
}

// client returns a client of the simulator with policy and mode, verifying
// the server with the rig's store.
func (r *secureRig) client(t *testing.T, policy, mode string, sink fb.Sink, logs *testenv.Logs) *Client {
	t.Helper()
	srv := r.server()
	srv.SecurityPolicy, srv.SecurityMode = policy, mode
	return r.clientOf(t, srv, sink, logs)
}

// server returns the settings of a client of the simulator's two load nodes.
func (r *secureRig) server() Options { return testServer("secure", r.sim.Endpoint, loadIDs(2)...) }

// clientOf returns a client with the server settings of srv (an endpoint of
// the simulator) and the rig's identity, verifying the server with the
// rig's store.
func (r *secureRig) clientOf(t *testing.T, srv Options, sink fb.Sink, logs *testenv.Logs) *Client {
	t.Helper()
	opts := testOptions(srv, sink, logs)
	opts.Certificate, opts.PrivateKey, opts.ApplicationURI = r.own.DER(), r.own.Key, r.own.ApplicationURI()
	opts.VerifyServerCert = (&pki.Verifier{Store: r.store, Server: srv.Name, Logger: logs.Logger()}).Verify
	return newClient(t, opts)
}

func someData(rs []fb.Reading) bool { return len(rs) >= 2 }

func TestSecurePolicies(t *testing.T) {
	r := newSecureRig(t, testenv.ServerCert{})
	r.trustServer(t)
	for _, policy := range []string{"Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss", Auto} {
		for _, mode := range []string{"Sign", "SignAndEncrypt"} {
			t.Run(policy+"/"+mode, func(t *testing.T) {
				sink, logs := newRecordSink(), &testenv.Logs{}
				stop := runClient(t, r.client(t, policy, mode, sink, logs))
				sink.waitFor(t, 20*time.Second, "readings over a secured session", someData)
				stop()
				if strings.Contains(logs.String(), "weaker than the server offers") {
					t.Errorf("warned about weak security:\n%s", logs)
				}
			})
		}
	}
}

// TestSecureNoneWarns connects with security None to a server that offers
// encryption: the bridge warns once, naming what it could use instead.
func TestSecureNoneWarns(t *testing.T) {
	r := newSecureRig(t, testenv.ServerCert{})
	sink, logs := newRecordSink(), &testenv.Logs{}
	runClient(t, r.client(t, "None", "None", sink, logs))
	sink.waitFor(t, 20*time.Second, "readings over security None", someData)
	const msg = "OPC UA security weaker than the server offers; set security_policy and security_mode to the stronger pair, or auto"
	testenv.Wait(t, 10*time.Second, "the warning", func() bool { return len(logs.Records(msg)) > 0 })
	rec := checkLoggedOnce(t, logs, msg, "WARN")
	if rec["using"] != "None/None" || rec["offered"] != "Aes256_Sha256_RsaPss/SignAndEncrypt" {
		t.Errorf("warning %v: want using None/None, offered Aes256_Sha256_RsaPss/SignAndEncrypt", rec)
	}
}

// TestSecureDeprecatedPolicies connects with the SHA-1 policies a server
// also offers (-deprecated): data flows, and the bridge warns once, naming
// the stronger pair it could use.
func TestSecureDeprecatedPolicies(t *testing.T) {
	r := newSecureRigWith(t, testenv.ServerCert{}, testenv.SimSecurity{Deprecated: true})
	r.trustServer(t)
	const msg = "OPC UA security weaker than the server offers; set security_policy and security_mode to the stronger pair, or auto"
	for _, policy := range []string{"Basic128Rsa15", "Basic256"} {
		for _, mode := range []string{"Sign", "SignAndEncrypt"} {
			t.Run(policy+"/"+mode, func(t *testing.T) {
				sink, logs := newRecordSink(), &testenv.Logs{}
				stop := runClient(t, r.client(t, policy, mode, sink, logs))
				sink.waitFor(t, 20*time.Second, "readings over a deprecated policy", someData)
				stop()
				rec := checkLoggedOnce(t, logs, msg, "WARN")
				if rec["using"] != policy+"/"+mode || rec["offered"] != "Aes256_Sha256_RsaPss/SignAndEncrypt" {
					t.Errorf("warning %v: want using %s/%s, offered Aes256_Sha256_RsaPss/SignAndEncrypt", rec, policy, mode)
				}
			})
		}
	}
	t.Run("auto", func(t *testing.T) {
		sink, logs := newRecordSink(), &testenv.Logs{}
		stop := runClient(t, r.client(t, Auto, Auto, sink, logs))
		sink.waitFor(t, 20*time.Second, "readings with auto", someData)
		stop()
		if n := len(logs.Records(msg)); n != 0 {
			t.Errorf("auto warned %d times about weak security", n)
		}
	})
}

func TestSecureUnknownServerRefusedThenTrusted(t *testing.T) {
	r := newSecureRig(t, testenv.ServerCert{})
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := r.client(t, "Basic256Sha256", "SignAndEncrypt", sink, logs)
	runClient(t, c)
	rejected := filepath.Join(r.store.Dir, pki.RejectedDir, pki.FileName(r.srvCert))
	testenv.Wait(t, 20*time.Second, "the certificate in rejected/", func() bool { _, err := os.Stat(rejected); return err == nil })
	testenv.Wait(t, 10*time.Second, "server down logged", func() bool { return len(logs.Records("server down")) > 0 })
	down := logs.Records("server down")[0]
	if msg, _ := down["err"].(string); !strings.Contains(msg, "not trusted") || !strings.Contains(msg, "factorybridge trust") {
		t.Errorf("server down err %q does not say it is untrusted and how to trust it", msg)
	}
	if n := len(sink.snapshot()); n != 0 {
		t.Fatalf("%d readings from an untrusted server", n)
	}
	if _, err := r.store.TrustThumbprint(pki.Thumbprint(r.srvCert.Raw)); err != nil {
		t.Fatal(err)
	}
	sink.waitFor(t, 20*time.Second, "readings after trust", someData)
}

func TestSecureChangedCertificateRefused(t *testing.T) {
	r := newSecureRig(t, testenv.ServerCert{})
	r.trustServer(t)
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := r.client(t, "Basic256Sha256", "Sign", sink, logs)
	runClient(t, c)
	sink.waitFor(t, 20*time.Second, "readings", someData)
	must(t, r.sim.Stop())
	_, _, impostor := testenv.WriteServerCert(t, r.simDir, testenv.ServerCert{CN: "impostor"})
	must(t, r.sim.Start())
	rejected := filepath.Join(r.store.Dir, pki.RejectedDir, pki.FileName(impostor))
	testenv.Wait(t, 20*time.Second, "the new certificate rejected", func() bool { _, err := os.Stat(rejected); return err == nil })
	if c.Stats().State == StateConnected {
		t.Error("connected to a server with a changed certificate")
	}
}

func TestSecureExpiredServerCertificate(t *testing.T) {
	r := newSecureRig(t, testenv.ServerCert{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	r.trustServer(t)
	sink, logs := newRecordSink(), &testenv.Logs{}
	runClient(t, r.client(t, "Basic256Sha256", "SignAndEncrypt", sink, logs))
	testenv.Wait(t, 20*time.Second, "server down logged", func() bool { return len(logs.Records("server down")) > 0 })
	if msg, _ := logs.Records("server down")[0]["err"].(string); !strings.Contains(msg, "expired on") {
		t.Errorf("server down err %q does not say the certificate expired", msg)
	}
}

func TestSecureWrongPassword(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	r := newSecureRig(t, testenv.ServerCert{}, "operator:"+secret)
	r.trustServer(t)
	sink, logs := newRecordSink(), &testenv.Logs{}
	opts := testOptions(r.server(), sink, logs)
	opts.SecurityPolicy, opts.SecurityMode = "Basic256Sha256", "SignAndEncrypt"
	opts.Auth, opts.Username, opts.Password = "username", "operator", "wrong-"+secret
	opts.Certificate, opts.PrivateKey, opts.ApplicationURI = r.own.DER(), r.own.Key, r.own.ApplicationURI()
	opts.VerifyServerCert = (&pki.Verifier{Store: r.store, Server: "secure"}).Verify
	c := newClient(t, opts)
	runClient(t, c)
	testenv.Wait(t, 20*time.Second, "retries", func() bool { return len(logs.Records("reconnect attempt failed")) >= 2 })
	if msg, _ := logs.Records("server down")[0]["err"].(string); !strings.Contains(msg, "BadUserAccessDenied") && !strings.Contains(msg, "BadIdentityToken") {
		t.Errorf("server down err %q does not name the refused login", msg)
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the password appears in the logs:\n%s", logs)
	}

	opts.Password = secret
	sink2 := newRecordSink()
	opts.Sink = sink2
	runClient(t, newClient(t, opts))
	sink2.waitFor(t, 20*time.Second, "readings with the right password", someData)
}
