package pki

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTrustOnFirstUsePinsOnce: the first valid certificate is pinned for
// its server, with a loud warning; the server's next, different certificate
// is refused although trust on first use is still on; the pinned one is
// still accepted once it is off; nothing lands in the shared trusted/.
func TestTrustOnFirstUsePinsOnce(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	first := newCert(t, certSpec{cn: "plc", uri: srvURI})
	var logs bytes.Buffer
	v := &Verifier{Store: s, Server: "press", TrustOnFirstUse: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := v.Verify(first.Raw, srvURI); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "TRUST ON FIRST USE") {
		t.Errorf("no loud warning:\n%s", logs.String())
	}
	if pinned, err := s.Pinned("press"); err != nil || pinned == nil || !pinned.Equal(first) {
		t.Fatalf("Pinned(press) = %v, %v; want the first certificate", pinned, err)
	}
	second := newCert(t, certSpec{cn: "plc", uri: srvURI, notAfter: time.Now().Add(2 * time.Hour)})
	err := v.Verify(second.Raw, srvURI)
	if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "not the certificate pinned for server press") {
		t.Fatalf("a second certificate with trust on first use on: %v, want ErrUntrusted naming the pin", err)
	}
	if err := v.Verify(first.Raw, srvURI); err != nil {
		t.Fatalf("the pinned certificate again: %v", err)
	}
	v.TrustOnFirstUse = false
	if err := v.Verify(first.Raw, srvURI); err != nil {
		t.Fatalf("the pinned certificate with trust on first use off: %v", err)
	}
	if got := files(t, filepath.Join(s.Dir, TrustedDir)); len(got) != 0 {
		t.Errorf("trust on first use wrote to trusted/: %v", got)
	}
	if n := strings.Count(logs.String(), "TRUST ON FIRST USE"); n != 1 {
		t.Errorf("%d trust-on-first-use warnings, want 1", n)
	}
}

// TestPinIsPerServer: a certificate pinned for one server is not trusted
// for another.
func TestPinIsPerServer(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	c := newCert(t, certSpec{cn: "plc", uri: srvURI})
	if err := (&Verifier{Store: s, Server: "press", TrustOnFirstUse: true}).Verify(c.Raw, srvURI); err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"oven", "press ", "press-"} {
		if err := (&Verifier{Store: s, Server: other}).Verify(c.Raw, srvURI); !errors.Is(err, ErrUntrusted) {
			t.Errorf("server %q with press's pin: %v, want ErrUntrusted", other, err)
		}
	}
}

// TestCANeverTrustedOnFirstUse is the attack of issue 12: a server with
// trust on first use presents a self-signed CA certificate; before, it
// landed in trusted/ as a root, and a leaf it signed was then accepted for
// another server without trust on first use. The CA is refused, nothing is
// pinned, and the leaf stays untrusted.
func TestCANeverTrustedOnFirstUse(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	evilCA := newCert(t, certSpec{cn: "Evil CA", ca: true, uri: srvURI})
	leaf := newCert(t, certSpec{cn: "plc", uri: srvURI, parent: evilCA, parentKey: testKey})
	if err := (&Verifier{Store: s, Server: "commissioning", TrustOnFirstUse: true}).Verify(evilCA.Raw, srvURI); !errors.Is(err, ErrUseNotAllowed) {
		t.Fatalf("a CA certificate with trust on first use: %v, want ErrUseNotAllowed", err)
	}
	if p, _ := s.Pinned("commissioning"); p != nil {
		t.Error("the CA certificate was pinned")
	}
	chain := append(append([]byte{}, leaf.Raw...), evilCA.Raw...)
	if err := (&Verifier{Store: s, Server: "press"}).Verify(chain, srvURI); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("a leaf of the CA, sent with it, for another server: %v, want ErrUntrusted", err)
	}
	if err := (&Verifier{Store: s, Server: "oven", TrustOnFirstUse: true, AllowMissingCRL: true}).Verify(chain, srvURI); err != nil {
		t.Fatalf("the leaf with trust on first use: %v", err)
	}
	if p, _ := s.Pinned("oven"); p == nil || !p.Equal(leaf) {
		t.Errorf("pinned for oven: %v, want the leaf only", p)
	}
	if got := files(t, filepath.Join(s.Dir, TrustedDir)); len(got) != 0 {
		t.Errorf("trusted/ holds %v", got)
	}
}

// TestTrustOnFirstUseOfInvalid: an invalid certificate is never pinned.
func TestTrustOnFirstUseOfInvalid(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	expired := newCert(t, certSpec{cn: "old", uri: srvURI, notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)})
	v := &Verifier{Store: s, Server: "press", TrustOnFirstUse: true}
	if err := v.Verify(expired.Raw, srvURI); !errors.Is(err, ErrInvalid) {
		t.Fatalf("TOFU of an expired certificate: %v, want ErrInvalid", err)
	}
	if p, err := s.Pinned("press"); p != nil || err != nil {
		t.Errorf("Pinned = %v, %v; want none", p, err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, PinsDir)); err == nil {
		if got := files(t, filepath.Join(s.Dir, PinsDir)); len(got) != 0 {
			t.Errorf("pins/ holds %v", got)
		}
	}
}
