package opcua

import (
	"crypto/rsa"
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

// The attacks of issue 12 on the trust decisions, against the secure
// open62541 simulator.

// verifiedClient returns a client of the rig's simulator (Basic256Sha256,
// SignAndEncrypt) whose certificates v verifies.
func (r *secureRig) verifiedClient(t *testing.T, v *pki.Verifier, sink fb.Sink, logs *testenv.Logs) *Client {
	t.Helper()
	opts := testOptions(r.server(), sink, logs)
	opts.SecurityPolicy, opts.SecurityMode = "Basic256Sha256", "SignAndEncrypt"
	opts.Certificate, opts.PrivateKey, opts.ApplicationURI = r.own.DER(), r.own.Key, r.own.ApplicationURI()
	v.Logger = logs.Logger()
	opts.VerifyServerCert = v.Verify
	return newClient(t, opts)
}

// refused waits until the client's connection attempts fail with an error
// containing want, and checks that nothing was delivered.
func refused(t *testing.T, c *Client, sink *recordSink, logs *testenv.Logs, want string) {
	t.Helper()
	testenv.Wait(t, 20*time.Second, "a refusal naming "+want, func() bool {
		for _, msg := range []string{"server down", "reconnect attempt failed"} {
			for _, r := range logs.Records(msg) {
				if err, _ := r["err"].(string); strings.Contains(err, want) {
					return true
				}
			}
		}
		return false
	})
	if c.Stats().State == StateConnected {
		t.Errorf("connected although refused (%s)", want)
	}
	if n := len(sink.snapshot()); n != 0 {
		t.Errorf("%d readings from a refused server", n)
	}
}

// restartWith stops the simulator, gives it a new certificate of spec and
// starts it again.
func (r *secureRig) restartWith(t *testing.T, spec testenv.ServerCert) *x509.Certificate {
	t.Helper()
	must(t, r.sim.Stop())
	_, _, cert := testenv.WriteServerCert(t, r.simDir, spec)
	must(t, r.sim.Start())
	return cert
}

// TestSecureTrustOnFirstUsePinsOnce: trust on first use pins the first
// certificate for this server; when the server comes back with another,
// that one is refused although trust on first use is still on, and
// nothing is ever written to the shared trusted/.
func TestSecureTrustOnFirstUsePinsOnce(t *testing.T) {
	r := newSecureRig(t, testenv.ServerCert{})
	sink, logs := newRecordSink(), &testenv.Logs{}
	runClient(t, r.verifiedClient(t, &pki.Verifier{Store: r.store, Server: "secure", TrustOnFirstUse: true}, sink, logs))
	sink.waitFor(t, 20*time.Second, "readings after trust on first use", someData)
	if p, err := r.store.Pinned("secure"); err != nil || p == nil || !p.Equal(r.srvCert) {
		t.Fatalf("pinned %v, %v; want the server's first certificate", p, err)
	}
	impostor := r.restartWith(t, testenv.ServerCert{CN: "impostor"})
	before := len(sink.snapshot())
	testenv.Wait(t, 20*time.Second, "the impostor rejected", func() bool {
		_, err := os.Stat(filepath.Join(r.store.Dir, pki.RejectedDir, pki.FileName(impostor)))
		return err == nil
	})
	if !strings.Contains(logs.String(), "not the certificate pinned for server secure") {
		t.Errorf("the refusal does not name the pin:\n%s", logs)
	}
	if c := len(sink.snapshot()); c > before+20 { // readings in flight at the restart may still land
		t.Errorf("%d readings after the certificate changed", c-before)
	}
	if got, _ := os.ReadDir(filepath.Join(r.store.Dir, pki.TrustedDir)); len(got) != 0 {
		t.Errorf("trusted/ holds %v", got)
	}
}

// TestSecureCANotTrustedOnFirstUse is issue 12's attack with two servers:
// one, with trust on first use, presents a self-signed CA certificate; the
// other, without, presents a leaf that CA signed. Before, the CA landed in
// trusted/ as a root and the leaf was then trusted. Both are refused.
func TestSecureCANotTrustedOnFirstUse(t *testing.T) {
	caRig := newSecureRig(t, testenv.ServerCert{CN: "rogue CA", IsCA: true})
	ca := &testenv.CA{Cert: caRig.srvCert, Key: readKey(t, filepath.Join(caRig.simDir, "key.der"))}
	leafRig := newSecureRig(t, testenv.ServerCert{CN: "plc", Issuer: ca})
	leafRig.store = caRig.store // one bridge, one PKI directory
	sink1, logs1 := newRecordSink(), &testenv.Logs{}
	c1 := caRig.verifiedClient(t, &pki.Verifier{Store: caRig.store, Server: "commissioning", TrustOnFirstUse: true}, sink1, logs1)
	runClient(t, c1)
	refused(t, c1, sink1, logs1, "is a CA certificate")
	sink2, logs2 := newRecordSink(), &testenv.Logs{}
	c2 := leafRig.verifiedClient(t, &pki.Verifier{Store: leafRig.store, Server: "press"}, sink2, logs2)
	runClient(t, c2)
	refused(t, c2, sink2, logs2, "not trusted")
	if p, _ := caRig.store.Pinned("commissioning"); p != nil {
		t.Error("the CA certificate was pinned")
	}
	if got, _ := os.ReadDir(filepath.Join(caRig.store.Dir, pki.TrustedDir)); len(got) != 0 {
		t.Errorf("trusted/ holds %v", got)
	}
}

// TestSecureCRLRevokesTrusted: a server certificate issued by a trusted CA
// connects while the CA's CRL lists nothing, and is refused once a new CRL
// revokes it.
func TestSecureCRLRevokesTrusted(t *testing.T) {
	ca := testenv.NewCA(t, "Plant CA")
	r := newSecureRig(t, testenv.ServerCert{Issuer: ca})
	must(t, r.store.Init())
	ca.WriteCert(t, filepath.Join(r.store.Dir, pki.TrustedDir))
	crlDir := filepath.Join(r.store.Dir, pki.TrustedCRLDir)
	ca.WriteCRL(t, crlDir)
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := r.verifiedClient(t, &pki.Verifier{Store: r.store, Server: "secure"}, sink, logs)
	stop := runClient(t, c)
	sink.waitFor(t, 20*time.Second, "readings from a server of the trusted CA", someData)
	stop()

	ca.WriteCRL(t, crlDir, r.srvCert)
	sink2, logs2 := newRecordSink(), &testenv.Logs{}
	c2 := r.verifiedClient(t, &pki.Verifier{Store: r.store, Server: "secure"}, sink2, logs2)
	runClient(t, c2)
	refused(t, c2, sink2, logs2, "BadCertificateRevoked")
}

// TestSecureWeakCertificates: a server certificate signed with SHA-1, or
// with a 1024-bit key, is refused even when trusted.
func TestSecureWeakCertificates(t *testing.T) {
	for name, spec := range map[string]testenv.ServerCert{
		"SHA-1":        {SignatureAlgorithm: x509.SHA1WithRSA},
		"1024-bit key": {KeyBits: 1024},
	} {
		t.Run(name, func(t *testing.T) {
			r := newSecureRigWith(t, spec, testenv.SimSecurity{Deprecated: true})
			r.trustServer(t)
			sink, logs := newRecordSink(), &testenv.Logs{}
			opts := testOptions(r.server(), sink, logs)
			opts.SecurityPolicy, opts.SecurityMode = Auto, Auto
			opts.Certificate, opts.PrivateKey, opts.ApplicationURI = r.own.DER(), r.own.Key, r.own.ApplicationURI()
			opts.VerifyServerCert = (&pki.Verifier{Store: r.store, Server: "secure", Logger: logs.Logger()}).Verify
			c := newClient(t, opts)
			runClient(t, c)
			refused(t, c, sink, logs, "BadCertificatePolicyCheckFailed")
		})
	}
}

func readKey(t *testing.T, path string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	k, err := x509.ParsePKCS1PrivateKey(b)
	must(t, err)
	return k
}
