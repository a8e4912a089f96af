package testenv

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

// ServerCert describes a test OPC UA server certificate; the zero value is
// a valid one for the secure simulator, valid from an hour ago for a day.
type ServerCert struct {
	// CN is the subject's common name; empty means "factorysim".
	CN string
	// URI is the application URI in the subjectAltName; empty means SimAppURI.
	URI string
	// NotBefore and NotAfter; zero means an hour ago and a day from now.
	NotBefore, NotAfter time.Time
	// Issuer signs the certificate; nil makes it self-signed.
	Issuer *CA
	// KeyBits is the RSA key size; zero means 2048.
	KeyBits int
	// SignatureAlgorithm; zero means SHA-256 with RSA.
	SignatureAlgorithm x509.SignatureAlgorithm
	// IsCA sets the basicConstraints CA flag, for a server that presents a
	// CA certificate as its own.
	IsCA bool
	// Hosts are the DNS names and IP addresses of the subjectAltName; nil
	// means localhost and 127.0.0.1.
	Hosts []string
}

// WriteServerCert makes a self-signed RSA-2048 certificate and writes it
// and its key as DER files (cert.der, key.der) into dir; it returns their paths
// and the certificate.
func WriteServerCert(t testing.TB, dir string, spec ServerCert) (certPath, keyPath string, cert *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, or(spec.KeyBits, 2048))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := spec.template()
	parent, signer := tmpl, key
	if spec.Issuer != nil {
		parent, signer = spec.Issuer.Cert, spec.Issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.der"), filepath.Join(dir, "key.der")
	if err := os.WriteFile(certPath, der, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, x509.MarshalPKCS1PrivateKey(key), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, cert
}

func (s ServerCert) template() *x509.Certificate {
	u, _ := url.Parse(or(s.URI, SimAppURI))
	t := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: or(s.CN, "factorysim")},
		NotBefore:    or(s.NotBefore, time.Now().Add(-time.Hour)),
		NotAfter:     or(s.NotAfter, time.Now().Add(24*time.Hour)),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment |
			x509.KeyUsageDataEncipherment | x509.KeyUsageContentCommitment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  s.IsCA,
		SignatureAlgorithm:    s.SignatureAlgorithm,
		URIs:                  []*url.URL{u},
	}
	hosts := s.Hosts
	if hosts == nil {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			t.IPAddresses = append(t.IPAddresses, ip)
		} else {
			t.DNSNames = append(t.DNSNames, h)
		}
	}
	return t
}
