package main

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

// Secrets of TestSecureBridge: none may appear in its logs.
const (
	opcPasswordEnv   = "opc-env-Secr3t"
	opcPasswordFile  = "opc-file-Secr3t"
	opcWrongPassword = "opc-wrong-Secr3t"
	mqttPasswordEnv  = "mqtt-env-Secr3t"
	mqttPasswordFile = "mqtt-file-Secr3t"
)

// secureBridge is a bridge config against a secure simulator, with every
// secret-bearing option: OPC UA passwords from an env var and from a file, a
// wrong OPC UA password, an X.509 user certificate with its key, and an MQTT
// password from an env var or a file. The password files and the user key
// are world-readable, to be warned about.
type secureBridge struct {
	cfg, dataDir, certPath   string
	endpoint, broker, pwFile string
	mqttPWFile               string
	user                     userCert
}

func newSecureBridge(t *testing.T) *secureBridge {
	t.Helper()
	dir := t.TempDir()
	b := &secureBridge{cfg: filepath.Join(dir, "bridge.toml"), dataDir: filepath.Join(dir, "data"),
		pwFile: filepath.Join(dir, "opc.pw"), mqttPWFile: filepath.Join(dir, "mqtt.pw"),
		user: writeUserCert(t, "bridge-user", 0o644)}
	must(t, os.WriteFile(b.pwFile, []byte(opcPasswordFile+"\n"), 0o644))
	must(t, os.WriteFile(b.mqttPWFile, []byte(mqttPasswordFile+"\n"), 0o644))
	t.Setenv("FB_TEST_OPC_PW", opcPasswordEnv)
	t.Setenv("FB_TEST_OPC_WRONG_PW", opcWrongPassword)
	t.Setenv("FB_TEST_MQTT_PW", mqttPasswordEnv)
	simDir, trustDir := t.TempDir(), t.TempDir()
	srvCert, srvKey, _ := testenv.WriteServerCert(t, simDir, testenv.ServerCert{})
	b.broker = testenv.StartMosquitto(t).URL
	// The simulator needs the bridge's certificate, which "pki init" makes
	// from a config: write it with a placeholder endpoint first.
	b.endpoint = "opc.tcp://127.0.0.1:4840"
	b.write(t, false)
	b.certPath = pkiInit(t, b.cfg)
	own, err := os.ReadFile(b.certPath)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(trustDir, "bridge.der"), own, 0o644))
	runOK(t, "trust", "-config", b.cfg, srvCert)
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 1, Rate: 20, Secure: &testenv.SimSecurity{
		Cert: srvCert, Key: srvKey, TrustDir: trustDir, UserTrust: b.user.derPath,
		Users: []string{"env-user:" + opcPasswordEnv, "file-user:" + opcPasswordFile},
	}})
	b.endpoint = sim.Endpoint
	return b
}

// write writes the config for b.endpoint; mqttFile takes the MQTT password from its file
// instead of the environment.
func (b *secureBridge) write(t *testing.T, mqttFile bool) {
	t.Helper()
	server := func(name, auth string) string {
		return fmt.Sprintf("[[servers]]\nname = %q\nendpoint = %q\nsecurity_policy = \"auto\"\nsecurity_mode = \"auto\"\n"+
			"request_timeout = \"2s\"\npublishing_interval = \"100ms\"\n%s\n", name, b.endpoint, auth)
	}
	line := func(name string) string {
		return fmt.Sprintf("[[lines]]\nname = %q\n[[lines.stations]]\nname = \"s\"\nserver = %q\n"+
			"nodes = [{ name = \"n\", id = \"nsu=urn:factorybridge:load;s=load.0\" }]\n", name, name)
	}
	mqttPW := "password_env = \"FB_TEST_MQTT_PW\""
	if mqttFile {
		mqttPW = fmt.Sprintf("password_file = %q", b.mqttPWFile)
	}
	cfg := fmt.Sprintf("[bridge]\nid = \"sec\"\ndata_dir = %q\n[mqtt]\nbroker = %q\nusername = \"bridge\"\n%s\nallow_plaintext_password = true\n",
		b.dataDir, b.broker, mqttPW) +
		server("env", "auth = \"username\"\nusername = \"env-user\"\npassword_env = \"FB_TEST_OPC_PW\"") +
		server("file", fmt.Sprintf("auth = \"username\"\nusername = \"file-user\"\npassword_file = %q", b.pwFile)) +
		server("cert", fmt.Sprintf("auth = \"certificate\"\nuser_certificate = %q\nuser_key = %q", b.user.certPath, b.user.keyPath)) +
		server("wrong", "auth = \"username\"\nusername = \"env-user\"\npassword_env = \"FB_TEST_OPC_WRONG_PW\"") +
		line("env") + line("file") + line("cert") + line("wrong")
	must(t, os.WriteFile(b.cfg, []byte(cfg), 0o600))
}

// pkiInit runs "pki init" for cfg and returns the bridge's certificate file.
func pkiInit(t *testing.T, cfg string) string {
	t.Helper()
	out := runOK(t, "pki", "init", "-config", cfg)
	return strings.TrimSpace(strings.TrimPrefix(strings.Split(out, "\n")[0], "certificate:"))
}

// userCert is an X.509 user certificate on disk: PEM at certPath, DER at
// derPath (as the simulator's -user-trust reads it), and its key PEM PKCS#8
// at keyPath.
type userCert struct {
	certPath, derPath, keyPath string
	cert                       *x509.Certificate
	keyFile                    []byte
	key                        *rsa.PrivateKey
}

// writeUserCert makes a self-signed user certificate for cn whose key file
// has mode keyMode.
func writeUserCert(t *testing.T, cn string, keyMode os.FileMode) userCert {
	t.Helper()
	dir := t.TempDir()
	derPath, derKey, cert := testenv.WriteServerCert(t, dir, testenv.ServerCert{CN: cn, URI: "urn:factorybridge:user:" + cn})
	b, err := os.ReadFile(derKey)
	must(t, err)
	key, err := x509.ParsePKCS1PrivateKey(b)
	must(t, err)
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	must(t, err)
	u := userCert{certPath: filepath.Join(dir, "user.pem"), derPath: derPath, keyPath: filepath.Join(dir, "user-key.pem"),
		cert: cert, key: key, keyFile: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})}
	must(t, os.WriteFile(u.certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644))
	must(t, os.WriteFile(u.keyPath, u.keyFile, 0o600))
	must(t, os.Chmod(u.keyPath, keyMode)) // not subject to the umask
	must(t, os.Remove(derKey))
	return u
}

// checkNotIn fails the test when logs hold the user key in any form it could
// leak in: the file, a line of its PEM body, or the private exponent or a
// prime in decimal or hex (as %v of the key prints them).
func (u userCert) checkNotIn(t *testing.T, logs string) {
	t.Helper()
	leaks := []string{string(u.keyFile), strings.Split(string(u.keyFile), "\n")[1]}
	for _, n := range []*big.Int{u.key.D, u.key.Primes[0], u.key.Primes[1]} {
		leaks = append(leaks, n.String()[:32], n.Text(16)[:32])
	}
	for _, s := range leaks {
		if strings.Contains(logs, s) {
			t.Errorf("the user key (%.16s…) appears in the logs", s)
		}
	}
}

// runOK runs a CLI command in-process and returns its stdout.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	return out
}

// TestSecureBridge runs the bridge against a secure simulator twice, the
// MQTT password from the environment and then from a file: it connects to
// the three servers with good credentials (passwords from an env var and a
// file, a user certificate) with the strongest security, is refused by the
// fourth (a wrong password), reuses its certificate on restart, warns about
// the world-readable password files and user key, and never logs a secret.
func TestSecureBridge(t *testing.T) {
	b := newSecureBridge(t)
	before, err := os.ReadFile(b.certPath)
	must(t, err)
	var all bytes.Buffer
	for run := range 2 {
		b.write(t, run == 1)
		logs := runUntil(t, b.cfg, "3 servers connected and the wrong password refused", func(logs string) bool {
			return strings.Count(logs, "msg=\"monitored items\"") >= 3 &&
				hasLine(logs, "msg=\"server down\"", "server=wrong")
		})
		all.WriteString(logs)
		if run == 1 && strings.Contains(logs, "created the bridge's OPC UA application certificate") {
			t.Error("the certificate was made again on restart")
		}
	}
	after, err := os.ReadFile(b.certPath)
	must(t, err)
	if !bytes.Equal(before, after) {
		t.Error("the client certificate changed across restarts")
	}
	logs := all.String()
	if !hasLine(logs, "msg=\"server down\"", "server=wrong", "BadUserAccessDenied") {
		t.Errorf("the wrong password's refusal does not name BadUserAccessDenied:\n%s", logs)
	}
	warnings := [][2]string{
		{"password file is readable by every user", "servers[1].password_file"},
		{"password file is readable by every user", "mqtt.password_file"},
		{"private key file is readable by every user", "servers[2].user_key"},
	}
	for _, w := range warnings {
		if !hasLine(logs, "level=WARN", w[0], "setting="+w[1]) {
			t.Errorf("no warning about the world-readable %s:\n%s", w[1], logs)
		}
	}
	for _, secret := range []string{opcPasswordEnv, opcPasswordFile, opcWrongPassword, mqttPasswordEnv, mqttPasswordFile} {
		if strings.Contains(logs, secret) {
			t.Errorf("secret %q appears in the logs", secret)
		}
	}
	b.user.checkNotIn(t, logs)
}

// hasLine reports whether a line of logs contains every one of substrs.
func hasLine(logs string, substrs ...string) bool {
	for line := range strings.Lines(logs) {
		if !slices.ContainsFunc(substrs, func(s string) bool { return !strings.Contains(line, s) }) {
			return true
		}
	}
	return false
}

// runUntil runs the bridge at debug level, with text logs, until its logs
// satisfy done, stops it, and returns its logs.
func runUntil(t *testing.T, cfg, what string, done func(logs string) bool) string {
	t.Helper()
	br := testenv.StartBridge(t, cfg, "-log-format", "text", "-log-level", "debug", "-status-interval", "0")
	testenv.Wait(t, 60*time.Second, what, func() bool {
		running := br.Running() // before reading: a last line before exit counts
		if done(br.Logs()) {
			return true
		}
		if !running {
			t.Fatalf("bridge exited while waiting for %s\n%s", what, br.LogTail())
		}
		return false
	})
	if code := br.Stop(); code != 0 {
		t.Fatalf("bridge exited with %d\n%s", code, br.LogTail())
	}
	return br.Logs()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
