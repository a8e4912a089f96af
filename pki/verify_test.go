package pki

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const srvURI = "urn:sim:server"

// key1024 is a weak key for the policy check.
var key1024 = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
}()

// verifyCase is one Verify call against a store holding trusted and
// issuers, with CRLs for crlOf (empty ones, unless revoked lists entries).
type verifyCase struct {
	name     string
	cert     *x509.Certificate
	chain    []*x509.Certificate // sent after cert
	trusted  []*x509.Certificate
	issuers  []*x509.Certificate
	crlOf    []*x509.Certificate
	revoked  []*x509.Certificate
	host     string
	uri      string
	verifier func(*Verifier)
	wantErr  error
	wantMsg  string
}

func TestVerify(t *testing.T) {
	ca := newCert(t, certSpec{cn: "Plant CA", ca: true})
	inter := newCert(t, certSpec{cn: "Line CA", ca: true, parent: ca, parentKey: testKey})
	leaf := newCert(t, certSpec{cn: "plc", uri: srvURI, dnsNames: []string{"plc.plant"}, ips: []net.IP{net.IPv4(10, 0, 0, 7)}})
	byCA := newCert(t, certSpec{cn: "plc-ca", uri: srvURI, parent: ca, parentKey: testKey})
	byInter := newCert(t, certSpec{cn: "plc-inter", uri: srvURI, parent: inter, parentKey: testKey})
	expiredInter := newCert(t, certSpec{cn: "Old Line CA", ca: true, parent: ca, parentKey: testKey, notAfter: time.Now().Add(-time.Minute)})
	byExpiredInter := newCert(t, certSpec{cn: "plc-old", uri: srvURI, parent: expiredInter, parentKey: testKey})
	sha1 := newCert(t, certSpec{cn: "sha1", uri: srvURI, sigAlg: x509.SHA1WithRSA})
	weak := newCert(t, certSpec{cn: "rsa1024", uri: srvURI, key: key1024})
	weakCA := newCert(t, certSpec{cn: "Weak CA", ca: true, key: key1024})
	byWeakCA := newCert(t, certSpec{cn: "plc-weak-ca", uri: srvURI, parent: weakCA, parentKey: key1024})
	certs := []*x509.Certificate{leaf}
	cas := []*x509.Certificate{ca}
	warnHost := func(v *Verifier) { v.WarnHostName = true }
	allowCRL := func(v *Verifier) { v.AllowMissingCRL = true }
	tests := []verifyCase{
		{name: "trusted leaf", cert: leaf, trusted: certs, uri: srvURI},
		{name: "unknown leaf", cert: leaf, uri: srvURI, wantErr: ErrUntrusted, wantMsg: "factorybridge trust -config FILE " + Thumbprint(leaf.Raw)},
		{name: "issued by trusted CA", cert: byCA, trusted: cas, crlOf: cas, uri: srvURI},
		{name: "CA only in issuers", cert: byCA, issuers: cas, crlOf: cas, uri: srvURI, wantErr: ErrUntrusted, wantMsg: "unknown authority"},
		{name: "intermediate in issuers", cert: byInter, trusted: cas, issuers: []*x509.Certificate{inter}, crlOf: []*x509.Certificate{ca, inter}, uri: srvURI},
		{name: "intermediate sent by the server", cert: byInter, chain: []*x509.Certificate{inter}, trusted: cas, crlOf: []*x509.Certificate{ca, inter}, uri: srvURI},
		{name: "other leaf trusted", cert: byCA, trusted: certs, uri: srvURI, wantErr: ErrUntrusted},
		{name: "chain error kept", cert: byExpiredInter, trusted: cas, issuers: []*x509.Certificate{expiredInter}, uri: srvURI, wantErr: ErrUntrusted, wantMsg: "expired"},
		{name: "expired", cert: newCert(t, certSpec{cn: "old", uri: srvURI, notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-24 * time.Hour)}),
			wantErr: ErrTimeInvalid, wantMsg: "expired on"},
		{name: "not yet valid", cert: newCert(t, certSpec{cn: "new", uri: srvURI, notBefore: time.Now().Add(24 * time.Hour), notAfter: time.Now().Add(48 * time.Hour)}),
			wantErr: ErrTimeInvalid, wantMsg: "not valid before"},
		{name: "wrong uri", cert: leaf, trusted: certs, uri: "urn:elsewhere", wantErr: ErrURIInvalid, wantMsg: `server says it is "urn:elsewhere"`},
		{name: "no signature usage", cert: newCert(t, certSpec{cn: "ku", uri: srvURI, keyUsage: x509.KeyUsageKeyEncipherment}),
			wantErr: ErrUseNotAllowed, wantMsg: "digitalSignature"},
		{name: "no key usage at all", cert: newCert(t, certSpec{cn: "noku", uri: srvURI, noKeyUsage: true}), trusted: nil,
			wantErr: ErrUseNotAllowed, wantMsg: "has no key usage"},
		{name: "client-only ext usage", cert: newCert(t, certSpec{cn: "eku", uri: srvURI, extKeyUsed: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}),
			wantErr: ErrUseNotAllowed, wantMsg: "serverAuth"},
		{name: "leaf with the CA flag", cert: ca, trusted: cas, wantErr: ErrUseNotAllowed, wantMsg: "is a CA certificate"},
		{name: "SHA-1 signature, even trusted", cert: sha1, trusted: []*x509.Certificate{sha1}, uri: srvURI, wantErr: ErrPolicyCheckFailed, wantMsg: "SHA1-RSA"},
		{name: "1024-bit key, even trusted", cert: weak, trusted: []*x509.Certificate{weak}, uri: srvURI, wantErr: ErrPolicyCheckFailed, wantMsg: "1024-bit RSA key"},
		{name: "1024-bit issuer", cert: byWeakCA, trusted: []*x509.Certificate{weakCA}, crlOf: []*x509.Certificate{weakCA}, uri: srvURI, wantErr: ErrPolicyCheckFailed, wantMsg: "1024-bit"},
		{name: "host name", cert: leaf, trusted: certs, host: "plc.plant"},
		{name: "host ip", cert: leaf, trusted: certs, host: "10.0.0.7"},
		{name: "host mismatch", cert: leaf, trusted: certs, host: "10.0.0.8", wantErr: ErrHostNameInvalid, wantMsg: `not the endpoint's host "10.0.0.8"`},
		{name: "host mismatch warned", cert: leaf, trusted: certs, host: "10.0.0.8", verifier: warnHost},
		{name: "revoked", cert: byCA, trusted: cas, crlOf: cas, revoked: []*x509.Certificate{byCA}, uri: srvURI, wantErr: ErrRevoked, wantMsg: "was revoked by \"Plant CA\""},
		{name: "revoked intermediate", cert: byInter, trusted: cas, issuers: []*x509.Certificate{inter}, crlOf: []*x509.Certificate{ca, inter},
			revoked: []*x509.Certificate{inter}, uri: srvURI, wantErr: ErrRevoked, wantMsg: "Line CA"},
		{name: "revoked leaf trusted directly", cert: byCA, trusted: []*x509.Certificate{byCA}, issuers: cas, crlOf: cas, revoked: []*x509.Certificate{byCA}, uri: srvURI, wantErr: ErrRevoked},
		{name: "issuer without CRL", cert: byCA, trusted: cas, uri: srvURI, wantErr: ErrRevocationUnknown, wantMsg: "allow_missing_crl"},
		{name: "issuer without CRL allowed", cert: byCA, trusted: cas, uri: srvURI, verifier: allowCRL},
		{name: "intermediate without CRL", cert: byInter, trusted: cas, issuers: []*x509.Certificate{inter}, crlOf: cas, uri: srvURI, wantErr: ErrRevocationUnknown},
		{name: "leaf trusted, issuer unknown", cert: byCA, trusted: []*x509.Certificate{byCA}, uri: srvURI, wantErr: ErrRevocationUnknown, wantMsg: "in neither trusted/ nor issuers/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t) })
	}
}

func (tt verifyCase) run(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	for _, c := range tt.trusted {
		put(t, s, TrustedDir, c)
	}
	for _, c := range tt.issuers {
		put(t, s, IssuersDir, c)
	}
	for _, c := range tt.crlOf {
		var revoked []*x509.Certificate
		for _, r := range tt.revoked {
			if bytes.Equal(r.RawIssuer, c.RawSubject) {
				revoked = append(revoked, r)
			}
		}
		putCRL(t, s, TrustedCRLDir, c, time.Time{}, revoked...)
	}
	logs := &bytes.Buffer{}
	v := &Verifier{Store: s, Server: "plc1", Host: tt.host, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if tt.verifier != nil {
		tt.verifier(v)
	}
	der := tt.cert.Raw
	for _, c := range tt.chain {
		der = append(append([]byte{}, der...), c.Raw...)
	}
	err := v.Verify(der, tt.uri)
	if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.wantMsg)) {
		t.Fatalf("Verify = %v, want %v containing %q", err, tt.wantErr, tt.wantMsg)
	}
	if tt.wantErr != nil && tt.wantErr != ErrUntrusted && !errors.Is(err, ErrInvalid) {
		t.Errorf("%v does not match ErrInvalid", err)
	}
	rejected := len(files(t, filepath.Join(s.Dir, RejectedDir))) > 0
	if want := errors.Is(tt.wantErr, ErrUntrusted); rejected != want {
		t.Errorf("rejected/ holds a file: %v, want %v", rejected, want)
	}
	if tt.verifier != nil && err == nil && !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("an accepted exception was not warned about:\n%s", logs)
	}
}

func TestVerifyChainSentByServer(t *testing.T) {
	ca := newCert(t, certSpec{cn: "Plant CA", ca: true})
	inter := newCert(t, certSpec{cn: "Line CA", ca: true, parent: ca, parentKey: testKey})
	leaf := newCert(t, certSpec{cn: "plc", uri: srvURI, parent: inter, parentKey: testKey})
	s := Store{Dir: t.TempDir()}
	put(t, s, TrustedDir, ca)
	putCRL(t, s, TrustedCRLDir, ca, time.Time{})
	putCRL(t, s, IssuersCRLDir, inter, time.Time{})
	chain := append(append([]byte{}, leaf.Raw...), inter.Raw...)
	if err := (&Verifier{Store: s}).Verify(chain, srvURI); err != nil {
		t.Fatalf("chain leaf+intermediate to a trusted root: %v", err)
	}
}

func TestVerifyExpiredCRL(t *testing.T) {
	ca := newCert(t, certSpec{cn: "Plant CA", ca: true})
	leaf := newCert(t, certSpec{cn: "plc", uri: srvURI, parent: ca, parentKey: testKey})
	s := Store{Dir: t.TempDir()}
	put(t, s, TrustedDir, ca)
	putCRL(t, s, TrustedCRLDir, ca, time.Now().Add(-time.Minute))
	if err := (&Verifier{Store: s}).Verify(leaf.Raw, srvURI); !errors.Is(err, ErrRevocationUnknown) || !strings.Contains(err.Error(), "expired on") {
		t.Fatalf("Verify with an expired CRL = %v, want ErrRevocationUnknown naming the expiry", err)
	}
}

// TestVerifyCRLOfAnotherCA: a CRL is only believed when the issuer signed
// it: one naming the issuer but signed by another key does not count.
func TestVerifyCRLOfAnotherCA(t *testing.T) {
	ca := newCert(t, certSpec{cn: "Plant CA", ca: true})
	leaf := newCert(t, certSpec{cn: "plc", uri: srvURI, parent: ca, parentKey: testKey})
	forged := newCert(t, certSpec{cn: "Plant CA", ca: true, key: key1024})
	s := Store{Dir: t.TempDir()}
	put(t, s, TrustedDir, ca)
	putCRLSigned(t, s, TrustedCRLDir, forged, key1024, time.Time{}) // names Plant CA, signed by another key
	if err := (&Verifier{Store: s}).Verify(leaf.Raw, srvURI); !errors.Is(err, ErrRevocationUnknown) {
		t.Fatalf("Verify with only a forged CRL = %v, want ErrRevocationUnknown", err)
	}
}

func TestRejectThenTrustByThumbprint(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	leaf := newCert(t, certSpec{cn: "plc 7/a", uri: srvURI})
	var logs bytes.Buffer
	v := &Verifier{Store: s, Server: "press", Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := v.Verify(leaf.Raw, srvURI); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("unknown certificate: %v, want ErrUntrusted", err)
	}
	want := "plc-7-a_" + Thumbprint(leaf.Raw) + ".der"
	rejected := filepath.Join(s.Dir, RejectedDir, want)
	if b, err := os.ReadFile(rejected); err != nil || !bytes.Equal(b, leaf.Raw) {
		t.Fatalf("rejected/%s: %v (files %v)", want, err, files(t, filepath.Join(s.Dir, RejectedDir)))
	}
	for _, w := range []string{"server certificate refused", Thumbprint(leaf.Raw), "factorybridge trust -config FILE " + Thumbprint(leaf.Raw)} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, logs.String())
		}
	}
	if err := v.Verify(leaf.Raw, srvURI); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), Thumbprint(leaf.Raw)) {
		t.Fatalf("second attempt: %v, want ErrUntrusted with the thumbprint", err)
	}
	if n := strings.Count(logs.String(), "server certificate refused"); n != 1 {
		t.Errorf("the refusal was logged %d times over two attempts, want once", n)
	}
	if got, err := s.RejectedBy("press"); err != nil || len(got) != 1 || got[0].Thumbprint != Thumbprint(leaf.Raw) {
		t.Errorf("RejectedBy(press) = %v, %v; want the one certificate", got, err)
	}
	other := newCert(t, certSpec{cn: "other"})
	if _, err := s.TrustThumbprint(Thumbprint(other.Raw)); !errors.Is(err, ErrNoRejected) {
		t.Errorf("TrustThumbprint(another certificate) = %v, want ErrNoRejected", err)
	}
	if _, err := s.TrustThumbprint("not-a-thumbprint"); err == nil {
		t.Error("TrustThumbprint accepted a malformed thumbprint")
	}
	colons := strings.ToLower(Thumbprint(leaf.Raw)[:2] + ":" + Thumbprint(leaf.Raw)[2:])
	if _, err := s.TrustThumbprint(colons); err != nil {
		t.Fatal(err)
	}
	if got := files(t, filepath.Join(s.Dir, RejectedDir)); len(got) != 0 {
		t.Errorf("rejected/ still holds %v", got)
	}
	if err := v.Verify(leaf.Raw, srvURI); err != nil {
		t.Fatalf("after trust: %v", err)
	}
}

// TestTrustThumbprintReadsContent: a file in rejected/ named after one
// certificate but holding another is trusted (or not) by what it holds.
func TestTrustThumbprintReadsContent(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	checked, slipped := newCert(t, certSpec{cn: "checked"}), newCert(t, certSpec{cn: "slipped"})
	must(t, s.Init())
	must(t, os.WriteFile(filepath.Join(s.Dir, RejectedDir, FileName(checked)), slipped.Raw, 0o644))
	if _, err := s.TrustThumbprint(Thumbprint(checked.Raw)); !errors.Is(err, ErrNoRejected) {
		t.Fatalf("TrustThumbprint of the name's thumbprint = %v, want ErrNoRejected", err)
	}
	if got := files(t, filepath.Join(s.Dir, TrustedDir)); len(got) != 0 {
		t.Errorf("trusted/ holds %v", got)
	}
}

func TestList(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	own, _, err := s.Own("urn:h:factorybridge", "h")
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, TrustedDir, newCert(t, certSpec{cn: "trusted-plc"}))
	if _, err := s.Reject(newCert(t, certSpec{cn: "bad-plc"}), "press", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pin("oven", newCert(t, certSpec{cn: "pinned-plc"})); err != nil {
		t.Fatal(err)
	}
	got, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("List returned %d entries, want 4: %+v", len(got), got)
	}
	if got[0].Dir != OwnDir || got[0].Thumbprint != Thumbprint(own.DER()) {
		t.Errorf("first entry %+v, want own certificate", got[0])
	}
	if got[1].Dir != TrustedDir || !strings.Contains(got[1].Subject, "trusted-plc") {
		t.Errorf("second entry %+v, want trusted-plc", got[1])
	}
	if got[2].Dir != PinsDir || got[2].Server != "oven" {
		t.Errorf("third entry %+v, want pinned-plc pinned for oven", got[2])
	}
	if got[3].Dir != RejectedDir || got[3].Server != "press" {
		t.Errorf("fourth entry %+v, want bad-plc rejected from press", got[3])
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
