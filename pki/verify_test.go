package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const srvURI = "urn:sim:server"

func TestVerify(t *testing.T) {
	ca := newCert(t, certSpec{cn: "Plant CA", ca: true})
	inter := newCert(t, certSpec{cn: "Line CA", ca: true, parent: ca, parentKey: testKey})
	leaf := newCert(t, certSpec{cn: "plc", uri: srvURI})
	byCA := newCert(t, certSpec{cn: "plc-ca", uri: srvURI, parent: ca, parentKey: testKey})
	byInter := newCert(t, certSpec{cn: "plc-inter", uri: srvURI, parent: inter, parentKey: testKey})
	tests := []struct {
		name    string
		cert    *x509.Certificate
		trusted []*x509.Certificate
		issuers []*x509.Certificate
		uri     string
		wantErr error
		wantMsg string
	}{
		{"trusted leaf", leaf, []*x509.Certificate{leaf}, nil, srvURI, nil, ""},
		{"unknown leaf", leaf, nil, nil, srvURI, ErrUntrusted, "factorybridge trust"},
		{"issued by trusted CA", byCA, []*x509.Certificate{ca}, nil, srvURI, nil, ""},
		{"CA only in issuers", byCA, nil, []*x509.Certificate{ca}, srvURI, ErrUntrusted, ""},
		{"intermediate in issuers", byInter, []*x509.Certificate{ca}, []*x509.Certificate{inter}, srvURI, nil, ""},
		{"other leaf trusted", byCA, []*x509.Certificate{leaf}, nil, srvURI, ErrUntrusted, ""},
		{"expired", newCert(t, certSpec{cn: "old", uri: srvURI, notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-24 * time.Hour)}),
			nil, nil, srvURI, ErrInvalid, "expired on"},
		{"not yet valid", newCert(t, certSpec{cn: "new", uri: srvURI, notBefore: time.Now().Add(24 * time.Hour), notAfter: time.Now().Add(48 * time.Hour)}),
			nil, nil, srvURI, ErrInvalid, "not valid before"},
		{"wrong uri", leaf, []*x509.Certificate{leaf}, nil, "urn:elsewhere", ErrInvalid, `server says it is "urn:elsewhere"`},
		{"no signature usage", newCert(t, certSpec{cn: "ku", uri: srvURI, keyUsage: x509.KeyUsageKeyEncipherment}),
			nil, nil, srvURI, ErrInvalid, "digitalSignature"},
		{"client-only ext usage", newCert(t, certSpec{cn: "eku", uri: srvURI, extKeyUsed: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}),
			nil, nil, srvURI, ErrInvalid, "serverAuth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Store{Dir: t.TempDir()}
			for _, c := range tt.trusted {
				put(t, s, TrustedDir, c)
			}
			for _, c := range tt.issuers {
				put(t, s, IssuersDir, c)
			}
			v := &Verifier{Store: s, Server: "plc1"}
			err := v.Verify(tt.cert.Raw, tt.uri)
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Fatalf("Verify = %v, want %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
			rejected := len(files(t, filepath.Join(s.Dir, RejectedDir))) > 0
			if want := errors.Is(tt.wantErr, ErrUntrusted); rejected != want {
				t.Errorf("rejected/ holds a file: %v, want %v", rejected, want)
			}
		})
	}
}

func TestVerifyChainSentByServer(t *testing.T) {
	ca := newCert(t, certSpec{cn: "Plant CA", ca: true})
	inter := newCert(t, certSpec{cn: "Line CA", ca: true, parent: ca, parentKey: testKey})
	leaf := newCert(t, certSpec{cn: "plc", uri: srvURI, parent: inter, parentKey: testKey})
	s := Store{Dir: t.TempDir()}
	put(t, s, TrustedDir, ca)
	chain := append(append([]byte{}, leaf.Raw...), inter.Raw...)
	if err := (&Verifier{Store: s}).Verify(chain, srvURI); err != nil {
		t.Fatalf("chain leaf+intermediate to a trusted root: %v", err)
	}
}

func TestRejectThenTrustServer(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	leaf := newCert(t, certSpec{cn: "plc 7/a", uri: srvURI})
	var logs bytes.Buffer
	v := &Verifier{Store: s, Server: "press", Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := v.Verify(leaf.Raw, srvURI); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("unknown certificate: %v, want ErrUntrusted", err)
	}
	want := "plc-7-a_" + Thumbprint(leaf.Raw) + ".der"
	rejected := filepath.Join(s.Dir, RejectedDir, want)
	if b, err := os.ReadFile(rejected); err != nil || !bytes.Equal(b, leaf.Raw) {
		t.Fatalf("rejected/%s: %v (files %v)", want, err, files(t, filepath.Join(s.Dir, RejectedDir)))
	}
	for _, w := range []string{"server certificate refused", Thumbprint(leaf.Raw), "factorybridge trust -config FILE press"} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, logs.String())
		}
	}
	if _, err := s.TrustServer("other"); !errors.Is(err, ErrNoRejected) {
		t.Errorf("TrustServer(other) = %v, want ErrNoRejected", err)
	}
	if _, err := s.TrustServer("press"); err != nil {
		t.Fatal(err)
	}
	if got := files(t, filepath.Join(s.Dir, RejectedDir)); len(got) != 0 {
		t.Errorf("rejected/ still holds %v", got)
	}
	if err := v.Verify(leaf.Raw, srvURI); err != nil {
		t.Fatalf("after trust: %v", err)
	}
}

func TestTrustOnFirstUse(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	leaf := newCert(t, certSpec{cn: "plc", uri: srvURI})
	var logs bytes.Buffer
	v := &Verifier{Store: s, Server: "press", TrustOnFirstUse: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := v.Verify(leaf.Raw, srvURI); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "TRUST ON FIRST USE") {
		t.Errorf("no loud warning:\n%s", logs.String())
	}
	other := newCert(t, certSpec{cn: "plc", uri: srvURI, notAfter: time.Now().Add(2 * time.Hour)})
	v.TrustOnFirstUse = false
	if err := v.Verify(other.Raw, srvURI); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("a second, different certificate without TOFU: %v, want ErrUntrusted", err)
	}
	expired := newCert(t, certSpec{cn: "old", uri: srvURI, notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)})
	v.TrustOnFirstUse = true
	if err := v.Verify(expired.Raw, srvURI); !errors.Is(err, ErrInvalid) {
		t.Fatalf("TOFU of an expired certificate: %v, want ErrInvalid", err)
	}
}

func TestList(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	own, _, err := s.Own("urn:h:factorybridge", "h")
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, TrustedDir, newCert(t, certSpec{cn: "trusted-plc"}))
	if _, err := s.Reject(newCert(t, certSpec{cn: "bad-plc"}), "press"); err != nil {
		t.Fatal(err)
	}
	got, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("List returned %d entries, want 3: %+v", len(got), got)
	}
	if got[0].Dir != OwnDir || got[0].Thumbprint != Thumbprint(own.DER()) {
		t.Errorf("first entry %+v, want own certificate", got[0])
	}
	if got[1].Dir != TrustedDir || !strings.Contains(got[1].Subject, "trusted-plc") {
		t.Errorf("second entry %+v, want trusted-plc", got[1])
	}
	if got[2].Dir != RejectedDir || got[2].Server != "press" {
		t.Errorf("third entry %+v, want bad-plc rejected from press", got[2])
	}
}
