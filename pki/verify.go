package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Named errors of Verify, for errors.Is.
var (
	// ErrUntrusted: neither the certificate nor an issuer is in trusted/.
	ErrUntrusted = errors.New("server certificate is not trusted")
	// ErrInvalid: expired, not yet valid, wrong application URI or key usage.
	ErrInvalid = errors.New("server certificate is invalid")
)

// Verifier decides whether the bridge may open a secured session with one
// server. Its methods are safe for concurrent use as long as the store's
// files are not edited by hand during the call.
type Verifier struct {
	Store Store
	// Server is the configured server name, for logs and rejected/ records.
	Server string
	// TrustOnFirstUse trusts (and copies to trusted/) any valid certificate
	// not trusted yet, with a WARN. For commissioning only; false by default.
	TrustOnFirstUse bool
	// Logger receives the refusals and TOFU warnings; nil discards them.
	Logger *slog.Logger
	// Now is the clock of validity checks; nil means time.Now.
	Now func() time.Time
}

// Verify checks the certificate (chain) a server presents in its endpoint
// description against the store. serverURI is the endpoint's application
// URI, which the certificate's subjectAltName must contain. An untrusted
// certificate is copied to rejected/ and the error says how to trust it.
func (v *Verifier) Verify(der []byte, serverURI string) error {
	chain, err := x509.ParseCertificates(der)
	if err != nil || len(chain) == 0 {
		return fmt.Errorf("%w: parse: %v", ErrInvalid, err)
	}
	leaf := chain[0]
	if err := v.checkLeaf(leaf, serverURI); err != nil {
		return err
	}
	trusted, err := v.trusted(chain)
	if err != nil || trusted {
		return err
	}
	if v.TrustOnFirstUse {
		return v.trustFirst(leaf)
	}
	return v.reject(leaf)
}

// checkLeaf applies the rules that hold whatever the trust list says.
func (v *Verifier) checkLeaf(c *x509.Certificate, serverURI string) error {
	now := v.now()
	switch {
	case now.After(c.NotAfter):
		return fmt.Errorf("%w: %s expired on %s", ErrInvalid, describe(c), c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return fmt.Errorf("%w: %s is not valid before %s", ErrInvalid, describe(c), c.NotBefore.UTC().Format(time.RFC3339))
	case serverURI != "" && !hasURI(c, serverURI):
		return fmt.Errorf("%w: %s is for application URI %v, but the server says it is %q",
			ErrInvalid, describe(c), c.URIs, serverURI)
	case c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0:
		return fmt.Errorf("%w: %s lacks key usage digitalSignature", ErrInvalid, describe(c))
	case c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment) == 0:
		return fmt.Errorf("%w: %s lacks key usage keyEncipherment", ErrInvalid, describe(c))
	case len(c.ExtKeyUsage) > 0 && !slices.ContainsFunc(c.ExtKeyUsage, serverUsage):
		return fmt.Errorf("%w: %s lacks extended key usage serverAuth", ErrInvalid, describe(c))
	}
	return nil
}

func serverUsage(u x509.ExtKeyUsage) bool {
	return u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny
}

func hasURI(c *x509.Certificate, uri string) bool {
	return slices.ContainsFunc(c.URIs, func(u *url.URL) bool { return u.String() == uri })
}

// trusted reports whether the leaf itself is in trusted/, or chains (through
// issuers/ and the certificates the server sent) to a CA in trusted/.
func (v *Verifier) trusted(chain []*x509.Certificate) (bool, error) {
	trustedCerts, err := v.Store.certs(TrustedDir)
	if err != nil {
		return false, err
	}
	leaf := chain[0]
	roots := x509.NewCertPool()
	for _, c := range trustedCerts {
		if c.Equal(leaf) {
			return true, nil
		}
		if c.IsCA {
			roots.AddCert(c)
		}
	}
	return v.chains(leaf, roots, chain[1:])
}

func (v *Verifier) chains(leaf *x509.Certificate, roots *x509.CertPool, sent []*x509.Certificate) (bool, error) {
	issuers, err := v.Store.certs(IssuersDir)
	if err != nil {
		return false, err
	}
	inter := x509.NewCertPool()
	for _, c := range append(issuers, sent...) {
		inter.AddCert(c)
	}
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: v.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	return err == nil, nil
}

// reject copies the certificate to rejected/, records which server sent it,
// and returns an error telling the operator how to trust it.
func (v *Verifier) reject(c *x509.Certificate) error {
	path, err := v.Store.Reject(c, v.Server)
	if err != nil {
		return fmt.Errorf("%w: %s (and %v)", ErrUntrusted, describe(c), err)
	}
	v.log().Error("server certificate refused: not in the trust list", "server", v.Server,
		"subject", c.Subject.String(), "thumbprint", Thumbprint(c.Raw), "file", path,
		"to_trust", fmt.Sprintf("check the thumbprint with the server's operator, then move %s to %s or run: factorybridge trust -config FILE %s",
			path, v.Store.path(TrustedDir)+string(filepath.Separator), v.Server))
	return fmt.Errorf("%w: %s; it was written to %s: to trust it, move it to %s or run \"factorybridge trust -config FILE %s\"",
		ErrUntrusted, describe(c), path, v.Store.path(TrustedDir), v.Server)
}

func (v *Verifier) trustFirst(c *x509.Certificate) error {
	path := v.Store.path(TrustedDir, FileName(c))
	if err := v.Store.Init(); err != nil {
		return err
	}
	if err := writeNew(path, c.Raw, 0o644); err != nil {
		return fmt.Errorf("trust on first use: %w", err)
	}
	v.log().Warn("TRUST ON FIRST USE: trusting a server certificate nobody checked; "+
		"verify its thumbprint with the server's operator and set trust_on_first_use = false",
		"server", v.Server, "subject", c.Subject.String(), "thumbprint", Thumbprint(c.Raw), "file", path)
	return nil
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

func (v *Verifier) log() *slog.Logger {
	if v.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return v.Logger
}

// describe names a certificate in errors: subject CN and thumbprint.
func describe(c *x509.Certificate) string {
	return fmt.Sprintf("certificate %q (thumbprint %s)", c.Subject.CommonName, Thumbprint(c.Raw))
}

// certs reads every certificate in one of the store's directories; a
// missing directory holds none. Unreadable files are skipped: one bad file
// must not stop every connection.
func (s Store) certs(dir string) ([]*x509.Certificate, error) {
	entries, err := os.ReadDir(s.path(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.path(dir), err)
	}
	var out []*x509.Certificate
	for _, e := range entries {
		if e.IsDir() || !isCertFile(e.Name()) {
			continue
		}
		if c, err := ReadCertificate(s.path(dir, e.Name())); err == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

func isCertFile(name string) bool {
	ext := filepath.Ext(name)
	return ext == ".der" || ext == ".pem" || ext == ".crt" || ext == ".cer"
}
