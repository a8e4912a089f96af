package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// serverSuffix names the file beside a rejected certificate that records
// which configured server presented it, so "factorybridge trust NAME" finds it.
const serverSuffix = ".server"

// Reject writes a refused certificate to rejected/ (DER, named by FileName)
// with a record of the server that presented it, and returns its path.
func (s Store) Reject(c *x509.Certificate, server string) (string, error) {
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
	return path, nil
}

// ErrNoRejected: no rejected certificate of the named server.
var ErrNoRejected = errors.New("no rejected certificate")

// TrustServer moves the most recently rejected certificate that server
// presented into trusted/ and returns its new path.
func (s Store) TrustServer(server string) (string, error) {
	path, err := s.lastRejected(server)
	if err != nil {
		return "", err
	}
	return s.Trust(path)
}

// lastRejected finds the newest rejected certificate recorded for server.
func (s Store) lastRejected(server string) (string, error) {
	records, _ := filepath.Glob(s.path(RejectedDir, "*"+serverSuffix))
	var best string
	var bestTime time.Time
	for _, r := range records {
		b, err := os.ReadFile(r)
		fi, statErr := os.Stat(r)
		if err != nil || statErr != nil || strings.TrimSpace(string(b)) != server {
			continue
		}
		if best == "" || fi.ModTime().After(bestTime) {
			best, bestTime = strings.TrimSuffix(r, serverSuffix)+".der", fi.ModTime()
		}
	}
	if best == "" {
		return "", fmt.Errorf("trust server %s: %w in %s", server, ErrNoRejected, s.path(RejectedDir))
	}
	return best, nil
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
	Dir        string // OwnDir, TrustedDir, RejectedDir or IssuersDir
	Path       string
	Subject    string
	Thumbprint string
	NotBefore  time.Time
	NotAfter   time.Time
	// Server is the server that presented a rejected certificate, if known.
	Server string
}

// List returns the certificates of own/, trusted/, issuers/ and rejected/.
func (s Store) List() ([]Entry, error) {
	var out []Entry
	for _, d := range []string{OwnDir, TrustedDir, IssuersDir, RejectedDir} {
		entries, err := os.ReadDir(s.path(d))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("list %s: %w", s.path(d), err)
		}
		for _, e := range entries {
			if en, ok := s.entry(d, e.Name()); ok {
				out = append(out, en)
			}
		}
	}
	return out, nil
}

func (s Store) entry(dir, name string) (Entry, bool) {
	if !isCertFile(name) {
		return Entry{}, false
	}
	p := s.path(dir, name)
	c, err := ReadCertificate(p)
	if err != nil {
		return Entry{}, false
	}
	en := Entry{Dir: dir, Path: p, Subject: c.Subject.String(), Thumbprint: Thumbprint(c.Raw),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter}
	if b, err := os.ReadFile(strings.TrimSuffix(p, filepath.Ext(p)) + serverSuffix); err == nil {
		en.Server = strings.TrimSpace(string(b))
	}
	return en, true
}
