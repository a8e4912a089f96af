package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// serverSuffix names the file beside a rejected or pinned certificate that
// records which configured server presented it.
const serverSuffix = ".server"

// Reject writes a refused certificate to rejected/ (DER, named by FileName)
// with a record of the server that presented it, and returns its path. It
// keeps at most max certificates there (zero means DefaultMaxRejected),
// removing the oldest.
func (s Store) Reject(c *x509.Certificate, server string, max int) (string, error) {
	if err := s.Init(); err != nil {
		return "", err
	}
	path := s.path(RejectedDir, FileName(c))
	if err := writeNew(path, c.Raw, 0o644); err != nil {
		return "", fmt.Errorf("reject certificate: %w", err)
	}
	if server != "" {
		if err := writeNew(strings.TrimSuffix(path, ".der")+serverSuffix, []byte(server+"\n"), 0o644); err != nil {
			return "", fmt.Errorf("reject certificate: %w", err)
		}
	}
	if max <= 0 {
		max = DefaultMaxRejected
	}
	return path, s.pruneRejected(max)
}

// ErrNoRejected: no rejected certificate has the thumbprint asked for.
var ErrNoRejected = errors.New("no rejected certificate")

var thumbprintForm = regexp.MustCompile(`^[0-9A-F]{40}$`)

// NormalizeThumbprint returns a SHA-1 thumbprint in the form Thumbprint
// gives (upper-case hex, no separators), accepting lower case and ':' or
// ' ' between bytes; ok is false when s is not one.
func NormalizeThumbprint(s string) (tp string, ok bool) {
	tp = strings.ToUpper(strings.NewReplacer(":", "", " ", "").Replace(s))
	return tp, thumbprintForm.MatchString(tp)
}

// TrustThumbprint moves the rejected certificate with thumbprint (as
// NormalizeThumbprint accepts it) into trusted/ and returns its new path.
// The thumbprint is computed from each file's content, never taken from its
// name: what is trusted is exactly what the operator checked.
func (s Store) TrustThumbprint(thumbprint string) (string, error) {
	tp, ok := NormalizeThumbprint(thumbprint)
	if !ok {
		return "", fmt.Errorf("trust %q: not a SHA-1 thumbprint (40 hex digits)", thumbprint)
	}
	entries, err := s.dirEntries(RejectedDir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.Thumbprint == tp {
			return s.Trust(e.Path)
		}
	}
	return "", fmt.Errorf("trust %s: %w with this thumbprint in %s", tp, ErrNoRejected, s.path(RejectedDir))
}

// RejectedBy lists the rejected certificates recorded for server, newest
// first.
func (s Store) RejectedBy(server string) ([]Entry, error) {
	entries, err := s.dirEntries(RejectedDir)
	var out []Entry
	for _, e := range entries {
		if e.Server == server {
			out = append(out, e)
		}
	}
	slicesSortNewest(out)
	return out, err
}

// Trust copies the certificate file (PEM or DER) into trusted/ as DER and,
// when it came from rejected/, removes it and its record there.
func (s Store) Trust(path string) (string, error) {
	c, err := ReadCertificate(path)
	if err != nil {
		return "", fmt.Errorf("trust: %w", err)
	}
	if err := s.Init(); err != nil {
		return "", err
	}
	dst := s.path(TrustedDir, FileName(c))
	if err := writeNew(dst, c.Raw, 0o644); err != nil {
		return "", fmt.Errorf("trust: %w", err)
	}
	if s.inRejected(path) {
		os.Remove(path)
		os.Remove(strings.TrimSuffix(path, filepath.Ext(path)) + serverSuffix)
	}
	return dst, nil
}

func (s Store) inRejected(path string) bool {
	abs, err1 := filepath.Abs(filepath.Dir(path))
	rej, err2 := filepath.Abs(s.path(RejectedDir))
	return err1 == nil && err2 == nil && abs == rej
}

// Entry is one certificate of a store directory, for listings.
type Entry struct {
	Dir        string // OwnDir, TrustedDir, IssuersDir, PinsDir or RejectedDir
	Path       string
	Subject    string
	Thumbprint string
	NotBefore  time.Time
	NotAfter   time.Time
	// Server is the server that presented a rejected certificate, or whose
	// pinned certificate it is, if known.
	Server string
	// Modified is when the file was last written (for a rejected
	// certificate: when it was last refused).
	Modified time.Time
}

// List returns the certificates of own/, trusted/, issuers/, pins/ and
// rejected/.
func (s Store) List() ([]Entry, error) {
	var out []Entry
	for _, d := range []string{OwnDir, TrustedDir, IssuersDir, PinsDir, RejectedDir} {
		entries, err := s.dirEntries(d)
		if err != nil {
			return nil, err
		}
		out = append(out, entries...)
	}
	return out, nil
}

// dirEntries lists the certificates of one directory; a missing directory
// has none, unreadable files are skipped.
func (s Store) dirEntries(dir string) ([]Entry, error) {
	entries, err := os.ReadDir(s.path(dir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list %s: %w", s.path(dir), err)
	}
	var out []Entry
	for _, e := range entries {
		if en, ok := s.entry(dir, e); ok {
			out = append(out, en)
		}
	}
	return out, nil
}

func (s Store) entry(dir string, e os.DirEntry) (Entry, bool) {
	if e.IsDir() || !isCertFile(e.Name()) {
		return Entry{}, false
	}
	p := s.path(dir, e.Name())
	c, err := ReadCertificate(p)
	fi, ferr := e.Info()
	if err != nil || ferr != nil {
		return Entry{}, false
	}
	en := Entry{Dir: dir, Path: p, Subject: c.Subject.String(), Thumbprint: Thumbprint(c.Raw),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, Modified: fi.ModTime()}
	if b, err := os.ReadFile(strings.TrimSuffix(p, filepath.Ext(p)) + serverSuffix); err == nil {
		en.Server = strings.TrimSpace(string(b))
	}
	return en, true
}
