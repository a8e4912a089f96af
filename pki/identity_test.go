package pki

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestOwnIsCreatedOnceAndReused(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "pki")}
	first, created, err := s.Own("urn:host1:factorybridge", "host1")
	if err != nil || !created {
		t.Fatalf("first Own: created %v, err %v", created, err)
	}
	again, created, err := s.Own("urn:other:factorybridge", "other")
	if err != nil || created {
		t.Fatalf("second Own: created %v, err %v", created, err)
	}
	if got, want := Thumbprint(again.DER()), Thumbprint(first.DER()); got != want {
		t.Fatalf("thumbprint changed across loads: %s, want %s", got, want)
	}
	for _, d := range []string{OwnDir, TrustedDir, RejectedDir, IssuersDir} {
		if fi, err := os.Stat(filepath.Join(s.Dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("layout directory %s: %v", d, err)
		}
	}
	if fi, _ := os.Stat(first.KeyPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestOwnCertificateIsAnOPCUAApplicationCertificate(t *testing.T) {
	id, _, err := Store{Dir: t.TempDir()}.Own("urn:plc-gw:factorybridge", "plc-gw")
	if err != nil {
		t.Fatal(err)
	}
	c := id.Cert
	if got, want := id.ApplicationURI(), "urn:plc-gw:factorybridge"; got != want {
		t.Errorf("application URI %q, want %q", got, want)
	}
	if !slices.Contains(c.DNSNames, "plc-gw") {
		t.Errorf("DNS names %v lack the host name", c.DNSNames)
	}
	if got := id.Key.N.BitLen(); got < 2048 {
		t.Errorf("key has %d bits, want 2048 or more", got)
	}
	if c.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("signature algorithm %v, want SHA256-RSA", c.SignatureAlgorithm)
	}
	want := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment | x509.KeyUsageContentCommitment
	if c.KeyUsage&want != want {
		t.Errorf("key usage %b lacks %b", c.KeyUsage, want)
	}
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth} {
		if !slices.Contains(c.ExtKeyUsage, u) {
			t.Errorf("extended key usage %v lacks %v", c.ExtKeyUsage, u)
		}
	}
}

func TestLoadIdentityFormats(t *testing.T) {
	id, _, err := Store{Dir: t.TempDir()}.Own("urn:h:factorybridge", "h")
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(id.Key)
	pkcs1 := x509.MarshalPKCS1PrivateKey(id.Key)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certDER := write("c.der", id.DER())
	certPEM := write("c.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.DER()}))
	keys := map[string]string{
		"pkcs1 pem": write("k1.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1})),
		"pkcs8 pem": write("k8.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		"pkcs1 der": write("k1.der", pkcs1),
		"pkcs8 der": write("k8.der", pkcs8),
	}
	for name, key := range keys {
		for _, cert := range []string{certDER, certPEM} {
			got, err := LoadIdentity(cert, key)
			if err != nil {
				t.Fatalf("%s with %s: %v", name, cert, err)
			}
			if !got.Key.Equal(id.Key) || !got.Cert.Equal(id.Cert) {
				t.Errorf("%s with %s: loaded a different identity", name, cert)
			}
		}
	}
	other, _, _ := Store{Dir: t.TempDir()}.Own("urn:o:factorybridge", "o")
	otherKey := write("other.der", x509.MarshalPKCS1PrivateKey(other.Key))
	if _, err := LoadIdentity(certDER, otherKey); err == nil {
		t.Error("a key of another certificate was accepted")
	}
}

// TestOwnCertificateValidForLaggingClocks: the bridge's own certificate is
// valid from a week before it was made, so a PLC whose clock is hours
// behind does not refuse it as not yet valid.
func TestOwnCertificateValidForLaggingClocks(t *testing.T) {
	before := time.Now()
	id, _, err := Store{Dir: t.TempDir()}.Own("urn:plc-gw:factorybridge", "plc-gw")
	if err != nil {
		t.Fatal(err)
	}
	if nb := id.Cert.NotBefore; nb.After(before.Add(-ownBackdate).Add(time.Second)) {
		t.Errorf("NotBefore %v, want a week before %v", nb, before)
	}
	if na := id.Cert.NotAfter; na.Before(before.Add(ownValidity - time.Second)) {
		t.Errorf("NotAfter %v, want %v after its creation", na, ownValidity)
	}
}
