package hubsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// ClientCert is an X.509 client certificate issued by the hub's test CA, as
// PEM bytes (for in-process clients) and as files (for a bridge subprocess).
type ClientCert struct {
	CertPEM, KeyPEM   []byte
	CertFile, KeyFile string
}

// pki is the stand-in's test CA: it signs the TLS server certificate and the
// X.509 device certificates.
type pki struct {
	dir    string
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	caPEM  []byte
	caFile string
}

// certValidity is long enough for any test and short enough to look real.
const certValidity = 24 * time.Hour

func newPKI(dir string) (*pki, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := template("hubsim test CA")
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	p := &pki{dir: dir, cert: cert, key: key, caPEM: pemBlock("CERTIFICATE", der)}
	p.caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(p.caFile, p.caPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write CA: %w", err)
	}
	return p, nil
}

func template(cn string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

// issue signs a leaf certificate from tmpl and writes it and its key as
// {name}.pem and {name}-key.pem.
func (p *pki) issue(name string, tmpl *x509.Certificate) (ClientCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return ClientCert{}, fmt.Errorf("generate key for %s: %w", name, err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		return ClientCert{}, fmt.Errorf("create certificate %s: %w", name, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return ClientCert{}, fmt.Errorf("marshal key for %s: %w", name, err)
	}
	c := ClientCert{
		CertPEM:  pemBlock("CERTIFICATE", der),
		KeyPEM:   pemBlock("EC PRIVATE KEY", keyDER),
		CertFile: filepath.Join(p.dir, name+".pem"),
		KeyFile:  filepath.Join(p.dir, name+"-key.pem"),
	}
	if err := os.WriteFile(c.CertFile, c.CertPEM, 0o644); err != nil {
		return ClientCert{}, fmt.Errorf("write certificate %s: %w", name, err)
	}
	if err := os.WriteFile(c.KeyFile, c.KeyPEM, 0o600); err != nil {
		return ClientCert{}, fmt.Errorf("write key %s: %w", name, err)
	}
	return c, nil
}

// serverTLS issues the server certificate for "localhost" and the loopback
// addresses (so it also passes as an IoT Edge gateway's certificate) and
// returns a TLS config that verifies client certificates when given.
func (p *pki) serverTLS() (*tls.Config, error) {
	tmpl := template("localhost")
	tmpl.DNSNames = []string{"localhost"}
	tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	c, err := p.issue("server", tmpl)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("load server key pair: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.cert)
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// clientCert issues a device certificate whose CN is the device ID, the way
// IoT Hub's CA-signed X.509 authentication expects it; n keeps the file
// names of IDs that differ only in unsafe characters apart.
func (p *pki) clientCert(deviceID string, n int) (ClientCert, error) {
	tmpl := template(deviceID)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return p.issue(fmt.Sprintf("device-%d-%s", n, fileSafe(deviceID)), tmpl)
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// fileSafe keeps device IDs (which may hold characters like ':' or '%') out
// of the way of file names.
func fileSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}
