package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

// Secrets of TestSecureBridge: none may appear in its logs.
const (
	opcPasswordEnv  = "opc-env-Secr3t"
	opcPasswordFile = "opc-file-Secr3t"
	mqttPassword    = "mqtt-env-Secr3t"
)

// secureBridge is a bridge config against a secure simulator, with every
// secret-bearing option: OPC UA passwords from an env var and from a file,
// and an MQTT password.
type secureBridge struct {
	cfg, dataDir, certPath string
}

func newSecureBridge(t *testing.T) *secureBridge {
	t.Helper()
	dir := t.TempDir()
	b := &secureBridge{cfg: filepath.Join(dir, "bridge.toml"), dataDir: filepath.Join(dir, "data")}
	pwFile := filepath.Join(dir, "opc.pw")
	must(t, os.WriteFile(pwFile, []byte(opcPasswordFile+"\n"), 0o644)) // world-readable: warned about
	t.Setenv("FB_TEST_OPC_PW", opcPasswordEnv)
	t.Setenv("FB_TEST_MQTT_PW", mqttPassword)
	simDir, trustDir := t.TempDir(), t.TempDir()
	srvCert, srvKey, _ := testenv.WriteServerCert(t, simDir, testenv.ServerCert{})
	broker := testenv.StartMosquitto(t)
	// The endpoint is not known before the simulator runs, which needs the
	// bridge's certificate first: write the config with a placeholder port.
	port := testenv.FreePort(t)
	b.write(t, fmt.Sprintf("opc.tcp://127.0.0.1:%d", port), broker.URL, pwFile)
	out := runOK(t, "pki", "init", "-config", b.cfg)
	b.certPath = strings.TrimSpace(strings.TrimPrefix(strings.Split(out, "\n")[0], "certificate:"))
	own, err := os.ReadFile(b.certPath)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(trustDir, "bridge.der"), own, 0o644))
	runOK(t, "trust", "-config", b.cfg, srvCert)
	testenv.StartSimulator(t, testenv.SimOptions{Port: port, LoadNodes: 1, Rate: 20, Secure: &testenv.SimSecurity{
		Cert: srvCert, Key: srvKey, TrustDir: trustDir,
		Users: []string{"env-user:" + opcPasswordEnv, "file-user:" + opcPasswordFile},
	}})
	return b
}

func (b *secureBridge) write(t *testing.T, endpoint, broker, pwFile string) {
	t.Helper()
	server := func(name, auth string) string {
		return fmt.Sprintf("[[servers]]\nname = %q\nendpoint = %q\nsecurity_policy = \"auto\"\nsecurity_mode = \"auto\"\n"+
			"request_timeout = \"2s\"\npublishing_interval = \"100ms\"\nauth = \"username\"\n%s\n", name, endpoint, auth)
	}
	line := func(name string) string {
		return fmt.Sprintf("[[lines]]\nname = %q\n[[lines.stations]]\nname = \"s\"\nserver = %q\n"+
			"nodes = [{ name = \"n\", id = \"nsu=urn:factorybridge:load;s=load.0\" }]\n", name, name)
	}
	cfg := fmt.Sprintf("[bridge]\nid = \"sec\"\ndata_dir = %q\n[mqtt]\nbroker = %q\nusername = \"bridge\"\npassword_env = \"FB_TEST_MQTT_PW\"\n",
		b.dataDir, broker) +
		server("env", "username = \"env-user\"\npassword_env = \"FB_TEST_OPC_PW\"") +
		server("file", fmt.Sprintf("username = \"file-user\"\npassword_file = %q", pwFile)) +
		line("env") + line("file")
	must(t, os.WriteFile(b.cfg, []byte(cfg), 0o600))
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

// TestSecureBridge runs the bridge against a secure simulator twice: it
// connects to both servers with the strongest security, reuses its
// certificate on restart, warns about the world-readable password file, and
// never logs a secret.
func TestSecureBridge(t *testing.T) {
	b := newSecureBridge(t)
	before, err := os.ReadFile(b.certPath)
	must(t, err)
	var all bytes.Buffer
	for run := range 2 {
		logs := runUntilConnected(t, b.cfg, 2)
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
	if !strings.Contains(logs, "password file is readable by every user") {
		t.Errorf("no warning about the world-readable password file:\n%s", logs)
	}
	for _, secret := range []string{opcPasswordEnv, opcPasswordFile, mqttPassword} {
		if strings.Contains(logs, secret) {
			t.Errorf("secret %q appears in the logs", secret)
		}
	}
}

// runUntilConnected runs the bridge at debug level until n servers
// delivered data, stops it, and returns its logs.
func runUntilConnected(t *testing.T, cfg string, n int) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedWriter{w: &bytes.Buffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run", "-config", cfg, "-log-level", "debug", "-status-interval", "0"}, out, out)
	}()
	var once sync.Once
	stop := func() error {
		var err error
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	read := func() string { out.mu.Lock(); defer out.mu.Unlock(); return out.w.String() }
	testenv.Wait(t, 60*time.Second, fmt.Sprintf("%d servers connected", n), func() bool {
		return strings.Count(read(), "msg=\"monitored items\"") >= n
	})
	if err := stop(); err != nil {
		t.Fatalf("bridge exited with %v\n%s", err, read())
	}
	return read()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
