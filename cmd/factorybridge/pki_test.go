package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"factorybridge/pki"
)

// pkiConfig writes a minimal config whose data_dir is a fresh directory.
func pkiConfig(t *testing.T) (path, pkiDir string) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "bridge.toml")
	cfg := "bridge.id = \"t\"\nbridge.data_dir = \"" + dir + "\"\nmqtt.broker = \"tcp://127.0.0.1:1883\"\n" +
		"[[servers]]\nname = \"press\"\nendpoint = \"opc.tcp://127.0.0.1:4840\"\n" +
		"[[lines]]\nname = \"l\"\n[[lines.stations]]\nname = \"s\"\nnodes = [{ name = \"n\", id = \"ns=1;s=n\" }]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, filepath.Join(dir, "pki")
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

var thumbLine = regexp.MustCompile(`thumbprint:\s+([0-9A-F]{40})`)

func TestPKIInitIsIdempotent(t *testing.T) {
	cfg, pkiDir := pkiConfig(t)
	out1, errOut, code := runCLI(t, "pki", "init", "-config", cfg)
	if code != 0 {
		t.Fatalf("pki init exit %d: %s", code, errOut)
	}
	out2, _, _ := runCLI(t, "pki", "init", "-config", cfg)
	m1, m2 := thumbLine.FindStringSubmatch(out1), thumbLine.FindStringSubmatch(out2)
	if m1 == nil || m2 == nil || m1[1] != m2[1] {
		t.Fatalf("thumbprints differ or are missing:\n%s\n%s", out1, out2)
	}
	if want := filepath.Join(pkiDir, "own", "cert.der"); !strings.Contains(out1, want) {
		t.Errorf("output %q does not name %s", out1, want)
	}
}

func TestTrustCommand(t *testing.T) {
	cfg, pkiDir := pkiConfig(t)
	store := pki.Store{Dir: pkiDir}
	cert := selfSigned(t, "plc-press")
	if _, err := store.Reject(cert, "press", 0); err != nil {
		t.Fatal(err)
	}
	tp := pki.Thumbprint(cert.Raw)
	if _, errOut, code := runCLI(t, "trust", "-config", cfg, "press"); code != 1 || !strings.Contains(errOut, "not the server's name") ||
		!strings.Contains(errOut, tp) {
		t.Errorf("trust by server name: exit %d, stderr %q; want a refusal listing %s", code, errOut, tp)
	}
	out, errOut, code := runCLI(t, "trust", "-config", cfg, tp)
	if code != 0 {
		t.Fatalf("trust exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, pki.Thumbprint(cert.Raw)) {
		t.Errorf("trust output %q lacks the thumbprint", out)
	}
	if _, err := os.Stat(filepath.Join(pkiDir, "trusted", pki.FileName(cert))); err != nil {
		t.Errorf("certificate not in trusted/: %v", err)
	}
	list, _, _ := runCLI(t, "pki", "list", "-config", cfg)
	if !strings.Contains(list, "trusted") || !strings.Contains(list, "plc-press") || strings.Contains(list, "rejected") {
		t.Errorf("pki list after trust:\n%s", list)
	}
	if _, errOut, code := runCLI(t, "trust", "-config", cfg, tp); code != 1 || !strings.Contains(errOut, "no rejected certificate") {
		t.Errorf("second trust: exit %d, stderr %q", code, errOut)
	}
}

func TestTrustCommandWithFile(t *testing.T) {
	cfg, pkiDir := pkiConfig(t)
	cert := selfSigned(t, "handed-over")
	file := filepath.Join(t.TempDir(), "plc.der")
	if err := os.WriteFile(file, cert.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, "trust", "-config", cfg, file); code != 0 {
		t.Fatalf("trust FILE exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(pkiDir, "trusted", pki.FileName(cert))); err != nil {
		t.Errorf("certificate not in trusted/: %v", err)
	}
}

func TestPKICommandsUsage(t *testing.T) {
	tests := []struct {
		args       []string
		wantCode   int
		wantStderr string
	}{
		{[]string{"pki", "init", "-h"}, 0, "Usage: factorybridge pki init"},
		{[]string{"pki", "list", "-h"}, 0, "Usage: factorybridge pki list"},
		{[]string{"trust", "-h"}, 0, "Usage: factorybridge trust"},
		{[]string{"pki"}, 2, "pki <init|list>"},
		{[]string{"pki", "frob"}, 2, "unknown command"},
		{[]string{"pki", "init"}, 2, "-config FILE is required"},
		{[]string{"trust", "-config", "x.toml"}, 2, "one thumbprint or certificate file"},
	}
	for _, tt := range tests {
		_, errOut, code := runCLI(t, tt.args...)
		if code != tt.wantCode || !strings.Contains(errOut, tt.wantStderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tt.args, code, errOut, tt.wantCode, tt.wantStderr)
		}
	}
}

func selfSigned(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}
