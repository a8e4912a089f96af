package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
)

// pinName is the file in pins/ of the certificate pinned for server: the
// name made safe, and a hash of it so that two names that look alike once
// made safe ("press 7", "press-7") never share a pin.
func pinName(server string) string {
	sum := sha256.Sum256([]byte(server))
	return unsafeName.ReplaceAllString(server, "-") + "_" + hex.EncodeToString(sum[:4]) + ".der"
}

// Pinned returns the certificate trust on first use pinned for server, or
// nil when there is none.
func (s Store) Pinned(server string) (*x509.Certificate, error) {
	c, err := ReadCertificate(s.path(PinsDir, pinName(server)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return c, err
}

// pin records c as the certificate of server, once: it fails with an error
// wrapping os.ErrExist when server has a pin already. It returns the file.
func (s Store) pin(server string, c *x509.Certificate) (string, error) {
	if err := s.Init(); err != nil {
		return "", err
	}
	path := s.path(PinsDir, pinName(server))
	if err := createNew(path, c.Raw, 0o644); err != nil {
		return "", fmt.Errorf("pin certificate: %w", err)
	}
	if err := writeNew(path[:len(path)-len(".der")]+serverSuffix, []byte(server+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("pin certificate: %w", err)
	}
	return path, nil
}
