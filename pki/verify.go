package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Verifier decides whether the bridge may open a secured session with one
// server, following OPC 10000-4 §6.1.3: the certificate's validity,
// security policy (signature algorithm, key size), usage, host name and
// application URI, then trust (trusted/, the server's pin, or a chain to a
// CA in trusted/), then revocation. Its methods are safe for concurrent
// use. The zero value needs Store and Server.
type Verifier struct {
	Store Store
	// Server is the configured server name: for logs, rejected/ records and
	// its pin.
	Server string
	// Host is the host name or IP address of the server's endpoint URL,
	// which the certificate's subjectAltName must name. Empty skips the
	// check.
	Host string
	// WarnHostName logs a host name mismatch (once per certificate) instead
	// of refusing the certificate. False refuses it.
	WarnHostName bool
	// AllowMissingCRL accepts a certificate an issuer of which has no
	// current CRL in trusted/crl or issuers/crl, with a WARN once per
	// issuer. False refuses it (a revoked certificate could not be told).
	AllowMissingCRL bool
	// TrustOnFirstUse pins the first valid certificate the server presents
	// when none is trusted or pinned for it yet: from then on that
	// certificate, and no other, is trusted for this server only (pins/;
	// never trusted/). A CA certificate is never pinned. With a loud WARN;
	// for commissioning only. False by default.
	TrustOnFirstUse bool
	// MaxRejected bounds the certificates kept in rejected/; zero means
	// DefaultMaxRejected.
	MaxRejected int
	// Logger receives the refusals and warnings; nil discards them.
	Logger *slog.Logger
	// Now is the clock of validity checks; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	warned map[string]bool // lines logged once: a refusal per thumbprint, a host name per thumbprint, a missing CRL per issuer
}

// Verify checks the certificate (chain) a server presents in its endpoint
// description. serverURI is the server's application URI, which the
// certificate's subjectAltName must contain. An untrusted certificate is
// written to rejected/ and the error says how to trust it.
func (v *Verifier) Verify(der []byte, serverURI string) error {
	chain, err := x509.ParseCertificates(der)
	if err != nil || len(chain) == 0 {
		return fmt.Errorf("%w: parse: %v", ErrInvalid, err)
	}
	if err := v.Store.Check(); err != nil {
		return err
	}
	leaf := chain[0]
	if err := v.checkLeaf(leaf, serverURI); err != nil {
		return err
	}
	d, err := v.decide(chain)
	if err != nil {
		return err
	}
	if d.path == nil {
		return v.reject(leaf, d.why)
	}
	if err := v.checkPath(d.path); err != nil {
		return err
	}
	if d.firstUse {
		return v.trustFirst(leaf)
	}
	return nil
}

// decision is what makes a certificate trusted: path runs from the leaf
// towards its trust anchor, as far as the store knows its issuers; a nil
// path means untrusted, for the reason why.
type decision struct {
	path     []*x509.Certificate
	firstUse bool // trusted on first use: pin it once the checks pass
	why      error
}

// decide finds what trusts the leaf: trusted/ (an operator put it there),
// the server's pin, a chain to a CA in trusted/, or trust on first use
// while the server has no pin.
func (v *Verifier) decide(chain []*x509.Certificate) (decision, error) {
	leaf := chain[0]
	trusted, err := v.Store.certs(TrustedDir)
	if err != nil {
		return decision{}, err
	}
	issuers, err := v.Store.certs(IssuersDir)
	if err != nil {
		return decision{}, err
	}
	known := append(append(append([]*x509.Certificate{}, trusted...), issuers...), chain[1:]...)
	pinned, err := v.Store.Pinned(v.Server)
	if err != nil {
		return decision{}, err
	}
	switch {
	case contains(trusted, leaf), pinned != nil && pinned.Equal(leaf):
		return decision{path: issuerPath(leaf, known)}, nil
	}
	path, chainErr := v.chainToTrusted(leaf, trusted, append(issuers, chain[1:]...))
	switch {
	case path != nil:
		return decision{path: path}, nil
	case pinned != nil:
		return decision{why: fmt.Errorf("it is not the certificate pinned for server %s on first use (thumbprint %s, %s)",
			v.Server, Thumbprint(pinned.Raw), v.Store.path(PinsDir, pinName(v.Server)))}, nil
	case v.TrustOnFirstUse:
		return decision{path: issuerPath(leaf, known), firstUse: true}, nil
	}
	return decision{why: chainErr}, nil
}

// chainToTrusted verifies the leaf against the CAs of trusted/ (the only
// roots), completing the chain with issuers/ and what the server sent. The
// error of a failed verification is kept: it says why (unknown authority,
// an expired or SHA-1 signed issuer, …).
func (v *Verifier) chainToTrusted(leaf *x509.Certificate, trusted, intermediates []*x509.Certificate) ([]*x509.Certificate, error) {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range trusted {
		if c.IsCA {
			roots.AddCert(c)
		}
	}
	for _, c := range intermediates {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: v.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, err
	}
	return chains[0], nil
}

// checkPath applies the policy and revocation checks to the issuers of the
// path.
func (v *Verifier) checkPath(path []*x509.Certificate) error {
	for _, c := range path[1:] {
		if err := checkKey(c); err != nil {
			return err
		}
	}
	return v.checkRevocation(path)
}

// reject writes the certificate to rejected/, records which server sent it,
// and returns an error telling the operator how to trust it.
func (v *Verifier) reject(c *x509.Certificate, why error) error {
	reason := ""
	if why != nil {
		reason = " (" + why.Error() + ")"
	}
	tp := Thumbprint(c.Raw)
	path, err := v.Store.Reject(c, v.Server, v.MaxRejected)
	if err != nil {
		return fmt.Errorf("%w: %s%s (and %v)", ErrUntrusted, describe(c), reason, err)
	}
	if v.first("rejected:" + tp) {
		v.log().Error("server certificate refused: not in the trust list", "server", v.Server,
			"subject", c.Subject.String(), "thumbprint", tp, "file", path, "reason", errText(why),
			"to_trust", "check the thumbprint with the server's operator, then run: factorybridge trust -config FILE "+tp)
	}
	return fmt.Errorf("%w: %s%s; it was written to %s: check its thumbprint with the server's operator, then run \"factorybridge trust -config FILE %s\"",
		ErrUntrusted, describe(c), reason, path, tp)
}

// trustFirst pins the certificate for this server, once.
func (v *Verifier) trustFirst(c *x509.Certificate) error {
	path, err := v.Store.pin(v.Server, c)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%w: %s: server %s got a pinned certificate meanwhile", ErrUntrusted, describe(c), v.Server)
	}
	if err != nil {
		return fmt.Errorf("trust on first use: %w", err)
	}
	v.log().Warn("TRUST ON FIRST USE: trusting a server certificate nobody checked; "+
		"verify its thumbprint with the server's operator and set trust_on_first_use = false",
		"server", v.Server, "subject", c.Subject.String(), "thumbprint", Thumbprint(c.Raw), "file", path)
	return nil
}

// warnOnce logs a WARN the first time key is seen.
func (v *Verifier) warnOnce(key, msg string, args ...any) {
	if v.first(key) {
		v.log().Warn(msg, append([]any{"server", v.Server}, args...)...)
	}
}

// first reports whether key is seen for the first time: a refusal or an
// accepted exception is logged once, not at every connection attempt (the
// client's "server down" carries the error of the episode).
func (v *Verifier) first(key string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.warned == nil {
		v.warned = map[string]bool{}
	}
	seen := v.warned[key]
	v.warned[key] = true
	return !seen
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

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func contains(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, t := range certs {
		if t.Equal(c) {
			return true
		}
	}
	return false
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
