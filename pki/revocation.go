package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// maxPath bounds the issuers issuerPath follows.
const maxPath = 8

// issuerPath returns the leaf and, as far as known holds them, its issuers
// up to a self-issued certificate: the certificates whose revocation the
// CRLs of the next one decide.
func issuerPath(leaf *x509.Certificate, known []*x509.Certificate) []*x509.Certificate {
	path := []*x509.Certificate{leaf}
	for c := leaf; !selfIssued(c) && len(path) < maxPath; {
		issuer := findIssuer(c, known)
		if issuer == nil {
			break
		}
		path = append(path, issuer)
		c = issuer
	}
	return path
}

func findIssuer(c *x509.Certificate, known []*x509.Certificate) *x509.Certificate {
	for _, k := range known {
		if k.IsCA && bytes.Equal(c.RawIssuer, k.RawSubject) && c.CheckSignatureFrom(k) == nil {
			return k
		}
	}
	return nil
}

// selfIssued: the certificate is its own issuer, a trust anchor that no CRL
// can revoke.
func selfIssued(c *x509.Certificate) bool { return bytes.Equal(c.RawIssuer, c.RawSubject) }

// checkRevocation checks each certificate of path below its trust anchor
// against the current CRL of its issuer (the next one of the path).
func (v *Verifier) checkRevocation(path []*x509.Certificate) error {
	var lists []*x509.RevocationList
	loaded := false
	for i, c := range path {
		if selfIssued(c) {
			return nil
		}
		if i+1 == len(path) {
			return v.revocationUnknown(c, nil, fmt.Sprintf("its issuer %q is in neither trusted/ nor issuers/", c.Issuer.String()))
		}
		if !loaded {
			var err error
			if lists, err = v.Store.crls(); err != nil {
				return err
			}
			loaded = true
		}
		if err := v.checkRevoked(c, path[i+1], lists); err != nil {
			return err
		}
	}
	return nil
}

// checkRevoked looks c up in the newest CRL of issuer.
func (v *Verifier) checkRevoked(c, issuer *x509.Certificate, lists []*x509.RevocationList) error {
	crl := newestCRL(issuer, lists)
	switch {
	case crl == nil:
		return v.revocationUnknown(c, issuer, "no CRL of its issuer in trusted/crl or issuers/crl")
	case !crl.NextUpdate.IsZero() && v.now().After(crl.NextUpdate):
		return v.revocationUnknown(c, issuer, "the CRL of its issuer expired on "+crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			return fmt.Errorf("%w: %s was revoked by %q on %s", ErrRevoked, describe(c), issuer.Subject.CommonName,
				e.RevocationTime.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// newestCRL is the CRL of lists issued and signed by issuer with the
// latest thisUpdate; nil if there is none.
func newestCRL(issuer *x509.Certificate, lists []*x509.RevocationList) *x509.RevocationList {
	var best *x509.RevocationList
	for _, l := range lists {
		if !bytes.Equal(l.RawIssuer, issuer.RawSubject) || l.CheckSignatureFrom(issuer) != nil {
			continue
		}
		if best == nil || l.ThisUpdate.After(best.ThisUpdate) {
			best = l
		}
	}
	return best
}

// revocationUnknown refuses c, whose revocation cannot be checked, unless
// AllowMissingCRL; then it warns once per issuer.
func (v *Verifier) revocationUnknown(c, issuer *x509.Certificate, why string) error {
	if v.AllowMissingCRL {
		key := "crl:" + c.Issuer.String()
		if issuer != nil {
			key = "crl:" + Thumbprint(issuer.Raw)
		}
		v.warnOnce(key, "revocation of a server certificate not checked; accepted because allow_missing_crl = true",
			"thumbprint", Thumbprint(c.Raw), "issuer", c.Issuer.String(), "reason", why)
		return nil
	}
	return fmt.Errorf("%w: %s: %s; put the issuer's CRL in %s or %s, or set bridge.allow_missing_crl = true",
		ErrRevocationUnknown, describe(c), why, v.Store.path(TrustedCRLDir), v.Store.path(IssuersCRLDir))
}

// crls reads the revocation lists (DER or PEM) of trusted/crl and
// issuers/crl; unreadable files are skipped.
func (s Store) crls() ([]*x509.RevocationList, error) {
	var out []*x509.RevocationList
	for _, dir := range []string{TrustedCRLDir, IssuersCRLDir} {
		entries, err := os.ReadDir(s.path(dir))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", s.path(dir), err)
		}
		for _, e := range entries {
			if l, err := readCRL(s.path(dir, e.Name())); err == nil && !e.IsDir() {
				out = append(out, l)
			}
		}
	}
	return out, nil
}

func readCRL(path string) (*x509.RevocationList, error) {
	if ext := filepath.Ext(path); ext != ".crl" && ext != ".der" && ext != ".pem" {
		return nil, fmt.Errorf("not a CRL file: %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	return x509.ParseRevocationList(b)
}
