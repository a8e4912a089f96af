// Package pki is the bridge's OPC UA public key infrastructure: a directory
// with OPC UA's usual layout holding the bridge's own application instance
// certificate (own/), the server certificates and CAs it trusts (trusted/),
// the CA and intermediate certificates that complete chains without being
// trusted themselves (issuers/), and the server certificates it refused
// (rejected/), where an operator reviews them and trusts them by
// thumbprint; the revocation lists of trusted and issuer CAs (trusted/crl,
// issuers/crl); and the certificates trust on first use pinned, one per
// server (pins/), each trusted for its server only.
//
// gopcua does not validate server certificates; Verifier does, with the
// steps of OPC 10000-4 §6.1.3, and the opcua package calls it before every
// secured session.
package pki

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The subdirectories of a Store.
const (
	OwnDir      = "own"
	TrustedDir  = "trusted"
	RejectedDir = "rejected"
	IssuersDir  = "issuers"
	PinsDir     = "pins"
	// TrustedCRLDir and IssuersCRLDir hold the CRLs (DER or PEM) of the CAs
	// in trusted/ and issuers/. Init does not create them.
	TrustedCRLDir = "trusted/crl"
	IssuersCRLDir = "issuers/crl"
)

// Store is a PKI directory. The zero value is not usable: Dir is required.
type Store struct {
	// Dir is the root of the layout (own/, trusted/, rejected/, issuers/).
	Dir string
}

// Init creates the layout's directories, readable by the owner only, and
// leaves existing ones and their files as they are (Check judges them).
func (s Store) Init() error {
	for _, d := range []string{OwnDir, TrustedDir, RejectedDir, IssuersDir, PinsDir} {
		if err := os.MkdirAll(s.path(d), 0o700); err != nil {
			return fmt.Errorf("create pki directory: %w", err)
		}
	}
	return nil
}

func (s Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.Dir}, elem...)...)
}

// Thumbprint is the SHA-1 hash of a DER certificate in upper-case hex, as
// OPC UA tools show it.
func Thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileName is the name under which a certificate is stored in trusted/ or
// rejected/: its subject's common name (made safe for a file name) and its
// thumbprint, e.g. "plc-7_3F2A….der".
func FileName(cert *x509.Certificate) string {
	cn := unsafeName.ReplaceAllString(cert.Subject.CommonName, "-")
	if cn == "" {
		cn = "unnamed"
	}
	return cn + "_" + Thumbprint(cert.Raw) + ".der"
}
