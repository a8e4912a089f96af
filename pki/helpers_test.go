package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
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
	if spec.keyUsage == 0 {
		spec.keyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		if spec.ca {
			spec.keyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: spec.cn},
		NotBefore: spec.notBefore, NotAfter: spec.notAfter, KeyUsage: spec.keyUsage,
		ExtKeyUsage: spec.extKeyUsed, BasicConstraintsValid: true, IsCA: spec.ca,
	}
	if spec.uri != "" {
		u, _ := url.Parse(spec.uri)
		tmpl.URIs = []*url.URL{u}
	}
	parent, pkey := spec.parent, spec.parentKey
	if parent == nil {
		parent, pkey = tmpl, testKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &testKey.PublicKey, pkey)
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
