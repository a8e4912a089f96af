package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorybridge/internal/testenv"
	"factorybridge/pki"
)

// The trust settings of issue 12 through the bridge binary: host names,
// CRLs, the thumbprint of a rejection, the PKI directory's modes.

const secured = "security_policy = \"Basic256Sha256\"\nsecurity_mode = \"SignAndEncrypt\"\n"

// waitDown waits for a "server down" line whose err contains reason.
func waitDown(t *testing.T, br *testenv.Bridge, reason string) testenv.LogEntry {
	t.Helper()
	return entry(br.WaitLogFunc(t, func(line string) bool {
		e := entry(line)
		return e.Msg() == "server down" && strings.Contains(e.Str("err"), reason)
	}, e2eWait, "server down: "+reason))
}

// TestSecureE2EHostName: a trusted certificate that does not name the
// endpoint's host is refused; with host_name_check = "warn" the bridge
// connects and warns once.
func TestSecureE2EHostName(t *testing.T) {
	r := newE2ERig(t, secured)
	certPath, _ := r.startSim(t, testenv.ServerCert{Hosts: []string{"plc7.plant.example"}}, testenv.SimSecurity{})
	runOK(t, "trust", "-config", r.cfg, certPath)
	br := testenv.StartBridge(t, r.cfg)
	if err := waitDown(t, br, "BadCertificateHostNameInvalid").Str("err"); !strings.Contains(err, `not the endpoint's host "127.0.0.1"`) {
		t.Errorf("refusal %q does not name the host", err)
	}
	if code := br.Stop(); code != 0 {
		t.Fatalf("bridge exited with %d", code)
	}
	r.write(t, secured+"host_name_check = \"warn\"")
	br.Start()
	waitData(t, br)
	warn := runEntries(br, 2, "server certificate does not name the endpoint's host; accepted because host_name_check = \"warn\"")
	if len(warn) != 1 || warn[0].Level() != "WARN" || warn[0].Str("host") != "127.0.0.1" {
		t.Errorf("host name warnings %v, want one WARN naming 127.0.0.1", warn)
	}
}

// TestSecureE2EMissingCRL: a server certificate issued by a trusted CA
// whose CRL is missing is refused, unless bridge.allow_missing_crl, which
// connects with a WARN.
func TestSecureE2EMissingCRL(t *testing.T) {
	ca := testenv.NewCA(t, "Plant CA")
	r := newE2ERig(t, secured)
	r.startSim(t, testenv.ServerCert{Issuer: ca}, testenv.SimSecurity{})
	runOK(t, "trust", "-config", r.cfg, ca.WriteCert(t, t.TempDir()))
	br := testenv.StartBridge(t, r.cfg)
	waitDown(t, br, "BadCertificateRevocationUnknown")
	if code := br.Stop(); code != 0 {
		t.Fatalf("bridge exited with %d", code)
	}
	cfg, err := os.ReadFile(r.cfg)
	must(t, err)
	must(t, os.WriteFile(r.cfg, []byte(strings.Replace(string(cfg), "[mqtt]", "allow_missing_crl = true\n[mqtt]", 1)), 0o600))
	br.Start()
	waitData(t, br)
	if warn := runEntries(br, 2, "revocation of a server certificate not checked; accepted because allow_missing_crl = true"); len(warn) != 1 {
		t.Errorf("missing CRL warnings %v, want one", warn)
	}
}

// TestSecureE2ETrustByThumbprint: the operator trusts the certificate by
// the thumbprint the refusal logged; the bridge connects at its next
// attempt, without a restart.
func TestSecureE2ETrustByThumbprint(t *testing.T) {
	r := newE2ERig(t, secured)
	_, cert := r.startSim(t, testenv.ServerCert{}, testenv.SimSecurity{})
	br := testenv.StartBridge(t, r.cfg)
	refusal := entry(br.WaitLog(t, `"msg":"server certificate refused: not in the trust list"`, e2eWait))
	tp := refusal.Str("thumbprint")
	if tp != pki.Thumbprint(cert.Raw) || !strings.Contains(refusal.Str("to_trust"), "factorybridge trust -config FILE "+tp) {
		t.Fatalf("refusal %v does not give the thumbprint %s and the command", refusal, pki.Thumbprint(cert.Raw))
	}
	runOK(t, "trust", "-config", r.cfg, tp)
	waitData(t, br)
}

// TestSecureE2EUnsafePKIDir: a trusted/ that other users can write stops
// the bridge at start, with the reason.
func TestSecureE2EUnsafePKIDir(t *testing.T) {
	r := newE2ERig(t, secured)
	must(t, os.MkdirAll(filepath.Join(r.pkiDir, pki.TrustedDir), 0o700))
	must(t, os.Chmod(filepath.Join(r.pkiDir, pki.TrustedDir), 0o775))
	_, errOut, code := runCLI(t, "run", "-config", r.cfg)
	if code == 0 || !strings.Contains(errOut, "pki directory is not safe") || !strings.Contains(errOut, "writable by group or others") {
		t.Errorf("run exit %d, stderr %q; want a refusal naming the writable trusted/", code, errOut)
	}
}
