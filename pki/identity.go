package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"time"
)

// Own certificate parameters.
const (
	OwnCertFile = "cert.der"    // in own/
	OwnKeyFile  = "private.pem" // in own/, PKCS#8, mode 0600
	keyBits     = 2048
	ownValidity = 20 * 365 * 24 * time.Hour
	// ownBackdate is how long before its creation the bridge's own
	// certificate is valid from: a PLC whose clock is behind refuses a
	// certificate that is not yet valid by its clock
	// (BadCertificateTimeInvalid), and plant clocks are often hours off.
	ownBackdate = 7 * 24 * time.Hour
)

// Identity is an application instance certificate and its private key.
type Identity struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
	// CertPath and KeyPath are where they were loaded from or written to.
	CertPath, KeyPath string
}

// DER returns the certificate in DER form.
func (id *Identity) DER() []byte { return id.Cert.Raw }

// ApplicationURI returns the first URI of the certificate's subjectAltName,
// which OPC UA requires to equal the client's ApplicationURI.
func (id *Identity) ApplicationURI() string {
	if len(id.Cert.URIs) == 0 {
		return ""
	}
	return id.Cert.URIs[0].String()
}

// DefaultApplicationURI is the bridge's application URI on host.
func DefaultApplicationURI(host string) string { return "urn:" + host + ":factorybridge" }

// Own returns the store's own certificate, creating it (and the layout) on
// first use for appURI and host. created tells whether it was just made. An
// existing certificate is always reused as it is, even if its URI differs
// from appURI: regenerating would silently invalidate every server's trust.
func (s Store) Own(appURI, host string) (id *Identity, created bool, err error) {
	certPath, keyPath := s.path(OwnDir, OwnCertFile), s.path(OwnDir, OwnKeyFile)
	id, err = LoadIdentity(certPath, keyPath)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return id, false, err
	}
	if err := s.Init(); err != nil {
		return nil, false, err
	}
	id, err = newIdentity(appURI, host)
	if err != nil {
		return nil, false, err
	}
	id.CertPath, id.KeyPath = certPath, keyPath
	return id, true, id.write()
}

// newIdentity makes a self-signed RSA certificate with the key usages OPC UA
// requires of an application instance certificate.
func newIdentity(appURI, host string) (*Identity, error) {
	u, err := url.Parse(appURI)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("create certificate: application URI %q is not a URI", appURI)
	}
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("create certificate: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("create certificate: serial: %w", err)
	}
	tmpl := certTemplate(serial, u, host)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	return &Identity{Cert: cert, Key: key}, err
}

func certTemplate(serial *big.Int, uri *url.URL, host string) *x509.Certificate {
	now := time.Now()
	t := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "factorybridge@" + host, Organization: []string{"factorybridge"}},
		NotBefore:             now.Add(-ownBackdate), // tolerate servers whose clock lags
		NotAfter:              now.Add(ownValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{uri},
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	if ip := net.ParseIP(host); ip != nil {
		t.IPAddresses = []net.IP{ip}
	} else if host != "" {
		t.DNSNames = []string{host}
	}
	return t
}

// write stores the certificate (DER) and the key (PKCS#8 PEM, owner only);
// the key is written first so a crash never leaves a certificate without it.
func (id *Identity) write() error {
	k, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		return fmt.Errorf("encode private key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
	if err := writeNew(id.KeyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return writeNew(id.CertPath, id.Cert.Raw, 0o644)
}

// LoadIdentity reads a certificate (PEM or DER) and an RSA private key (PEM
// or DER, PKCS#1 or PKCS#8). Errors wrap os.ErrNotExist when a file is missing.
func LoadIdentity(certPath, keyPath string) (*Identity, error) {
	cert, err := ReadCertificate(certPath)
	if err != nil {
		return nil, err
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("load certificate %s: key %s does not belong to it", certPath, keyPath)
	}
	return &Identity{Cert: cert, Key: key, CertPath: certPath, KeyPath: keyPath}, nil
}

// ReadCertificate reads one certificate, PEM or DER.
func ReadCertificate(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	cert, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("parse certificate %s: %w", path, err)
	}
	return cert, nil
}

func readKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	if k, err := x509.ParsePKCS1PrivateKey(b); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("parse private key %s: not an RSA key in PKCS#1 or PKCS#8: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parse private key %s: %T is not RSA (OPC UA needs RSA)", path, k)
	}
	return rk, nil
}
