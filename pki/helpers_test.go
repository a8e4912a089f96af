package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// certSpec describes a test certificate; zero fields get sensible values.
type certSpec struct {
	cn         string
	uri        string
	notBefore  time.Time
	notAfter   time.Time
	keyUsage   x509.KeyUsage
	ca         bool
	parent     *x509.Certificate
	parentKey  *rsa.PrivateKey
	extKeyUsed []x509.ExtKeyUsage
	noKeyUsage bool                    // no key usage extension at all
	sigAlg     x509.SignatureAlgorithm // zero means SHA-256
	key        *rsa.PrivateKey         // the certificate's key; nil means testKey
	dnsNames   []string
	ips        []net.IP
}

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// newCert makes a certificate signed by spec.parent (self-signed without).
// All test certificates share one key: only the signatures matter here.
func newCert(t testing.TB, spec certSpec) *x509.Certificate {
	t.Helper()
	if spec.notBefore.IsZero() {
		spec.notBefore = time.Now().Add(-time.Hour)
	}
	if spec.notAfter.IsZero() {
		spec.notAfter = time.Now().Add(time.Hour)
	}
	if spec.keyUsage == 0 && !spec.noKeyUsage {
		spec.keyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		if spec.ca {
			spec.keyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		}
	}
	if spec.key == nil {
		spec.key = testKey
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: spec.cn},
		NotBefore: spec.notBefore, NotAfter: spec.notAfter, KeyUsage: spec.keyUsage,
		ExtKeyUsage: spec.extKeyUsed, BasicConstraintsValid: true, IsCA: spec.ca,
		SignatureAlgorithm: spec.sigAlg, DNSNames: spec.dnsNames, IPAddresses: spec.ips,
	}
	if spec.uri != "" {
		u, _ := url.Parse(spec.uri)
		tmpl.URIs = []*url.URL{u}
	}
	parent, pkey := spec.parent, spec.parentKey
	if parent == nil {
		parent, pkey = tmpl, spec.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &spec.key.PublicKey, pkey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// put writes c as DER into dir of the store.
func put(t testing.TB, s Store, dir string, c *x509.Certificate) string {
	t.Helper()
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Dir, dir, FileName(c))
	if err := os.WriteFile(p, c.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func files(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// putCRL writes a CRL of ca (signed with testKey) into dir (TrustedCRLDir
// or IssuersCRLDir) revoking the given certificates, valid until
// nextUpdate (zero: an hour from now).
func putCRL(t testing.TB, s Store, dir string, ca *x509.Certificate, nextUpdate time.Time, revoked ...*x509.Certificate) {
	t.Helper()
	putCRLSigned(t, s, dir, ca, testKey, nextUpdate, revoked...)
}

// putCRLSigned is putCRL with the CRL signed by key.
func putCRLSigned(t testing.TB, s Store, dir string, ca *x509.Certificate, key *rsa.PrivateKey, nextUpdate time.Time, revoked ...*x509.Certificate) {
	t.Helper()
	if nextUpdate.IsZero() {
		nextUpdate = time.Now().Add(time.Hour)
	}
	thisUpdate := time.Now().Add(-time.Hour)
	if nextUpdate.Before(thisUpdate) {
		thisUpdate = nextUpdate.Add(-time.Hour)
	}
	tmpl := &x509.RevocationList{Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: thisUpdate, NextUpdate: nextUpdate}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, dir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, dir, ca.Subject.CommonName+".crl"), der, 0o644); err != nil {
		t.Fatal(err)
	}
}
