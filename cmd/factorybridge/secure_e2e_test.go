package main

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/pki"
)

// e2eWait bounds each wait for the bridge binary: startup (with -race),
// a connection attempt and a status line.
const e2eWait = 60 * time.Second

// e2eRig is a bridge config with one server ("plc", the secure simulator)
// and a simulator client trust list holding the bridge's certificate. The
// bridge runs as its own binary (testenv.StartBridge) with JSON logs.
type e2eRig struct {
	cfg, pkiDir string
	server      string // the body of the [[servers]] entry
	endpoint    string // the simulator's, once it runs
	broker      string
	simTrust    string // the simulator's client trust list
}

// newE2ERig writes the config with server as the body of its [[servers]]
// entry and makes the bridge's certificate with "pki init".
func newE2ERig(t *testing.T, server string) *e2eRig {
	t.Helper()
	dir := t.TempDir()
	r := &e2eRig{
		cfg: filepath.Join(dir, "bridge.toml"), pkiDir: filepath.Join(dir, "data", "pki"),
		endpoint: "opc.tcp://127.0.0.1:4840", broker: testenv.StartMosquitto(t).URL, simTrust: t.TempDir(),
	}
	r.write(t, server)
	own, err := os.ReadFile(pkiInit(t, r.cfg))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(r.simTrust, "bridge.der"), own, 0o644))
	return r
}

// write (re)writes the config with server as the body of its [[servers]].
func (r *e2eRig) write(t *testing.T, server string) {
	t.Helper()
	r.server = server
	cfg := fmt.Sprintf("[bridge]\nid = \"e2e\"\ndata_dir = %q\n[mqtt]\nbroker = %q\n"+
		"[[servers]]\nname = \"plc\"\nendpoint = %q\nrequest_timeout = \"2s\"\npublishing_interval = \"100ms\"\n%s\n"+
		"[[lines]]\nname = \"l\"\n[[lines.stations]]\nname = \"s\"\n"+
		"nodes = [{ name = \"n\", id = \"nsu=urn:factorybridge:load;s=load.0\" }]\n",
		filepath.Dir(r.pkiDir), r.broker, r.endpoint, server)
	must(t, os.WriteFile(r.cfg, []byte(cfg), 0o600))
}

// startSim starts the secure simulator with a new certificate of spec,
// trusting the bridge, and points the config at it; sec adds logins and
// user certificate trust.
func (r *e2eRig) startSim(t *testing.T, spec testenv.ServerCert, sec testenv.SimSecurity) (certPath string, cert *x509.Certificate) {
	t.Helper()
	sec.Cert, sec.Key, cert = testenv.WriteServerCert(t, t.TempDir(), spec)
	sec.TrustDir = r.simTrust
	r.endpoint = testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 1, Rate: 20, Secure: &sec}).Endpoint
	r.write(t, r.server)
	return sec.Cert, cert
}

// waitData waits until a status line of the current run counts readings.
func waitData(t *testing.T, br *testenv.Bridge) {
	t.Helper()
	br.WaitLogFunc(t, func(line string) bool {
		e := entry(line)
		return e.Msg() == "status" && e.Num("received") > 0
	}, e2eWait, "readings from the server")
}

// entry decodes one JSON log line; not JSON gives an empty entry.
func entry(line string) testenv.LogEntry {
	var e testenv.LogEntry
	_ = json.Unmarshal([]byte(line), &e)
	return e
}

// runEntries returns the log entries of the bridge's run n (1-based) with
// message msg.
func runEntries(br *testenv.Bridge, n int, msg string) []testenv.LogEntry {
	logs := br.Logs()
	start := strings.Index(logs, fmt.Sprintf("--- testenv: bridge run %d\n", n))
	if start < 0 {
		return nil
	}
	logs = logs[start:]
	if end := strings.Index(logs[1:], "--- testenv: bridge run "); end >= 0 {
		logs = logs[:end+1]
	}
	var out []testenv.LogEntry
	for line := range strings.Lines(logs) {
		if e := entry(line); e.Msg() == msg {
			out = append(out, e)
		}
	}
	return out
}

// TestSecureE2ETrustOnFirstUse commissions a server with
// trust_on_first_use: the bridge warns at start and when it trusts the
// certificate, which is pinned for this server in pins/ (never in the
// shared trusted/), and data flows. Run again with trust_on_first_use off,
// it connects to the pinned server silently.
func TestSecureE2ETrustOnFirstUse(t *testing.T) {
	const policy = "security_policy = \"Basic256Sha256\"\nsecurity_mode = \"SignAndEncrypt\"\n"
	r := newE2ERig(t, policy+"trust_on_first_use = true")
	_, cert := r.startSim(t, testenv.ServerCert{}, testenv.SimSecurity{})
	br := testenv.StartBridge(t, r.cfg)
	waitData(t, br)
	start := runEntries(br, 1, "trust_on_first_use is on: the first certificate this server presents will be trusted unchecked; turn it off after commissioning")
	if len(start) != 1 || start[0].Level() != "WARN" || start[0].Str("server") != "plc" {
		t.Errorf("start-up warning about trust_on_first_use: %v, want one WARN for plc", start)
	}
	tofu := runEntries(br, 1, "TRUST ON FIRST USE: trusting a server certificate nobody checked; verify its thumbprint with the server's operator and set trust_on_first_use = false")
	if len(tofu) != 1 || tofu[0].Level() != "WARN" || tofu[0].Str("thumbprint") != pki.Thumbprint(cert.Raw) {
		t.Errorf("trust-on-first-use warning: %v, want one WARN with thumbprint %s", tofu, pki.Thumbprint(cert.Raw))
	}
	if pinned, err := (pki.Store{Dir: r.pkiDir}).Pinned("plc"); err != nil || pinned == nil || !pinned.Equal(cert) {
		t.Fatalf("the server's certificate is not pinned for plc: %v, %v", pinned, err)
	}
	if trusted, _ := os.ReadDir(filepath.Join(r.pkiDir, pki.TrustedDir)); len(trusted) != 0 {
		t.Errorf("trust_on_first_use wrote to trusted/: %v", trusted)
	}

	if code := br.Stop(); code != 0 {
		t.Fatalf("bridge exited with %d", code)
	}
	r.write(t, policy+"trust_on_first_use = false")
	br.Start()
	waitData(t, br)
	for _, msg := range []string{"server certificate refused: not in the trust list", "server down",
		"TRUST ON FIRST USE: trusting a server certificate nobody checked; verify its thumbprint with the server's operator and set trust_on_first_use = false"} {
		if got := runEntries(br, 2, msg); len(got) > 0 {
			t.Errorf("second run, trust_on_first_use off, logged %q: %v", msg, got)
		}
	}
}

// TestSecureE2EWrongApplicationURI runs against a server whose certificate
// names another application URI than the server announces: refused, with
// the reason in the log, and no data, although trust_on_first_use is on: an
// invalid certificate is never trusted. (open62541 1.4 starts with such a
// certificate because it only looks for its URI as a substring of the
// certificate's extensions; the bridge compares the URIs exactly.)
func TestSecureE2EWrongApplicationURI(t *testing.T) {
	r := newE2ERig(t, "security_policy = \"auto\"\nsecurity_mode = \"auto\"\ntrust_on_first_use = true")
	const certURI = testenv.SimAppURI + ":impostor"
	_, cert := r.startSim(t, testenv.ServerCert{URI: certURI}, testenv.SimSecurity{})
	br := testenv.StartBridge(t, r.cfg)
	line := br.WaitLog(t, `"msg":"server down"`, e2eWait)
	want := fmt.Sprintf("is for application URI [%s], but the server says it is %q", certURI, testenv.SimAppURI)
	if err := entry(line).Str("err"); !strings.Contains(err, want) || !strings.Contains(err, pki.Thumbprint(cert.Raw)) {
		t.Errorf("server down err %q does not give the reason %q and the thumbprint", err, want)
	}
	br.Mark()
	status := entry(br.WaitLog(t, `"msg":"status"`, e2eWait))
	if status.Num("servers_connected") != 0 || status.Num("received") != 0 {
		t.Errorf("status after the refusal: %v, want no server connected and nothing received", status)
	}
	if got := br.Entries("connected"); len(got) > 0 {
		t.Errorf("connected to a server whose certificate names another application: %v", got)
	}
	if trusted, _ := os.ReadDir(filepath.Join(r.pkiDir, pki.TrustedDir)); len(trusted) != 0 {
		t.Errorf("trust_on_first_use trusted an invalid certificate: %v", trusted)
	}
}

// TestSecureE2EDeprecatedPolicyWarns connects with Basic256, which the
// simulator offers besides stronger policies (-deprecated): data flows and
// the bridge warns once that the server offers better.
func TestSecureE2EDeprecatedPolicyWarns(t *testing.T) {
	r := newE2ERig(t, "security_policy = \"Basic256\"\nsecurity_mode = \"SignAndEncrypt\"")
	certPath, _ := r.startSim(t, testenv.ServerCert{}, testenv.SimSecurity{Deprecated: true})
	runOK(t, "trust", "-config", r.cfg, certPath)
	br := testenv.StartBridge(t, r.cfg)
	waitData(t, br)
	warn := br.Entries("OPC UA security weaker than the server offers; set security_policy and security_mode to the stronger pair, or auto")
	if len(warn) != 1 || warn[0].Level() != "WARN" {
		t.Fatalf("weak security warnings: %v, want one WARN", warn)
	}
	if w := warn[0]; w.Str("using") != "Basic256/SignAndEncrypt" || w.Str("offered") != "Aes256_Sha256_RsaPss/SignAndEncrypt" {
		t.Errorf("warning %v: want using Basic256/SignAndEncrypt, offered Aes256_Sha256_RsaPss/SignAndEncrypt", w)
	}
}

// TestSecureE2EUserCertificate logs in with an X.509 user certificate (PEM,
// PKCS#8 key, world-readable): the bridge names the certificate at start,
// warns about the key file, receives data from a server that refuses
// anonymous users, and logs nothing of the key.
func TestSecureE2EUserCertificate(t *testing.T) {
	u := writeUserCert(t, "bridge-operator", 0o644)
	r := newE2ERig(t, fmt.Sprintf("security_policy = \"Basic256Sha256\"\nsecurity_mode = \"SignAndEncrypt\"\n"+
		"auth = \"certificate\"\nuser_certificate = %q\nuser_key = %q", u.certPath, u.keyPath))
	certPath, _ := r.startSim(t, testenv.ServerCert{}, testenv.SimSecurity{UserTrust: u.derPath, Users: []string{"someone:pw"}})
	runOK(t, "trust", "-config", r.cfg, certPath)
	br := testenv.StartBridge(t, r.cfg)
	waitData(t, br)
	info := br.Entries("OPC UA user certificate")
	if len(info) != 1 || info[0].Str("thumbprint") != pki.Thumbprint(u.cert.Raw) {
		t.Errorf("user certificate log: %v, want one with thumbprint %s", info, pki.Thumbprint(u.cert.Raw))
	}
	warn := br.Entries("private key file is readable by every user; restrict it (chmod 600, or 640 with the bridge's group)")
	if len(warn) != 1 || warn[0].Str("setting") != "servers[0].user_key" {
		t.Errorf("world-readable user key warnings: %v, want one for servers[0].user_key", warn)
	}
	u.checkNotIn(t, br.Logs())
}

// TestSecureE2EUserCertificateUntrusted logs in with a user certificate the
// server does not trust: refused with BadIdentityTokenRejected, no data.
func TestSecureE2EUserCertificateUntrusted(t *testing.T) {
	trusted, stranger := writeUserCert(t, "operator", 0o600), writeUserCert(t, "stranger", 0o600)
	r := newE2ERig(t, fmt.Sprintf("security_policy = \"auto\"\nsecurity_mode = \"auto\"\n"+
		"auth = \"certificate\"\nuser_certificate = %q\nuser_key = %q", stranger.certPath, stranger.keyPath))
	certPath, _ := r.startSim(t, testenv.ServerCert{}, testenv.SimSecurity{UserTrust: trusted.derPath})
	runOK(t, "trust", "-config", r.cfg, certPath)
	br := testenv.StartBridge(t, r.cfg)
	if err := entry(br.WaitLog(t, `"msg":"server down"`, e2eWait)).Str("err"); !strings.Contains(err, "StatusBadIdentityTokenRejected") {
		t.Errorf("server down err %q does not name the rejected identity token", err)
	}
	if got := br.Entries("connected"); len(got) > 0 {
		t.Errorf("connected with an untrusted user certificate: %v", got)
	}
	stranger.checkNotIn(t, br.Logs())
}

// TestUserCertificateCheckedAtStart: a user key that does not belong to the
// user certificate stops "factorybridge run" before it connects anywhere.
func TestUserCertificateCheckedAtStart(t *testing.T) {
	a, b := writeUserCert(t, "a", 0o600), writeUserCert(t, "b", 0o600)
	cfg, _ := pkiConfig(t)
	data, err := os.ReadFile(cfg)
	must(t, err)
	server := fmt.Sprintf("auth = \"certificate\"\nuser_certificate = %q\nuser_key = %q\n[[lines]]", a.certPath, b.keyPath)
	must(t, os.WriteFile(cfg, []byte(strings.Replace(string(data), "[[lines]]", server, 1)), 0o600))
	_, errOut, code := runCLI(t, "run", "-config", cfg)
	if code == 0 || !strings.Contains(errOut, "server press: user certificate: load certificate") ||
		!strings.Contains(errOut, "does not belong to it") {
		t.Errorf("run exit %d, stderr %q: want a failure naming the mismatched user key", code, errOut)
	}
	a.checkNotIn(t, errOut)
	b.checkNotIn(t, errOut)
}
