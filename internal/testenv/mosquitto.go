package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mosquittoPaths are where StartMosquitto looks for the broker after PATH.
var mosquittoPaths = []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto"}

// mosquittoStartTimeout bounds how long a broker may take to accept connections.
const mosquittoStartTimeout = 10 * time.Second

// Mosquitto is a mosquitto broker of one test, listening on 127.0.0.1 with
// its own config file and log in the test's temporary directory. It is
// stopped when the test ends.
type Mosquitto struct {
	// URL is the broker's address for MQTT clients: tcp://127.0.0.1:<Port>.
	URL string
	// Port is the TCP port it listens on; Start after Stop reuses it.
	Port int
	// LogFile is mosquitto's log, shown when it fails to start.
	LogFile string

	t       testing.TB
	bin     string
	conf    string
	persist bool
	extra   []string
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has exited
}

// MosquittoOptions configure StartMosquittoWith.
type MosquittoOptions struct {
	// Persistence keeps subscriptions and queued messages of clients with a
	// persistent session (clean session false) across Stop and Start, in a
	// file in the test's directory. A consumer that must not miss what a
	// publisher sends right after a broker restart needs it. Off by default.
	Persistence bool
	// Extra are more lines of mosquitto.conf, after the defaults, which
	// they override: "message_size_limit 65536", "max_inflight_messages 2",
	// "acl_file /path".
	Extra []string
}

// StartMosquitto starts a broker for t: anonymous access, no persistence,
// large in-flight and queue limits. Without a mosquitto binary (PATH or
// /usr/sbin) the test is skipped, or fails when integration tests are
// required.
func StartMosquitto(t testing.TB) *Mosquitto {
	t.Helper()
	return StartMosquittoWith(t, MosquittoOptions{})
}

// StartMosquittoWith is StartMosquitto with options.
func StartMosquittoWith(t testing.TB, opts MosquittoOptions) *Mosquitto {
	t.Helper()
	bin := findMosquitto()
	if bin == "" {
		Unavailable(t, "mosquitto not found in PATH or "+mosquittoPaths[0])
	}
	dir := t.TempDir()
	m := &Mosquitto{t: t, bin: bin, conf: filepath.Join(dir, "mosquitto.conf"), LogFile: filepath.Join(dir, "mosquitto.log"),
		persist: opts.Persistence, extra: opts.Extra}
	t.Cleanup(m.Stop)
	for attempt := 1; ; attempt++ {
		m.Port = FreePort(t)
		m.URL = "tcp://127.0.0.1:" + strconv.Itoa(m.Port)
		m.writeConfig()
		err := m.start()
		if err == nil {
			return m
		}
		if attempt == 3 { // the free port may have been taken meanwhile; try another
			t.Fatalf("start mosquitto: %v", err)
		}
	}
}

func findMosquitto() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	for _, p := range mosquittoPaths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// writeConfig writes the broker's config for m.Port.
func (m *Mosquitto) writeConfig() {
	conf := fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 65535
max_queued_messages 1000000
max_queued_bytes 0
log_dest file %s
log_type error
log_type warning
log_type notice
log_type information
log_timestamp_format %%Y-%%m-%%dT%%H:%%M:%%S
`, m.Port, m.LogFile)
	// log_type notice writes the "New client connected" lines that
	// Connections counts.
	// As root, mosquitto would switch to user "mosquitto", which cannot
	// write the log in the test's directory; naming the current user keeps
	// it (the option is ignored when not root).
	if u, err := user.Current(); err == nil {
		conf += "user " + u.Username + "\n"
	}
	if m.persist {
		conf = strings.Replace(conf, "persistence false\n", fmt.Sprintf("persistence true\npersistence_location %s/\n",
			filepath.Dir(m.conf)), 1)
	}
	for _, l := range m.extra {
		conf += l + "\n"
	}
	if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
		m.t.Fatalf("write mosquitto config: %v", err)
	}
}

// Start starts the broker again after Stop, on the same port.
func (m *Mosquitto) Start() {
	m.t.Helper()
	if err := m.start(); err != nil {
		m.t.Fatalf("restart mosquitto on port %d: %v", m.Port, err)
	}
}

// start runs mosquitto and waits until it accepts connections.
func (m *Mosquitto) start() error {
	if m.cmd != nil {
		return fmt.Errorf("mosquitto is already running")
	}
	stderr, err := os.OpenFile(m.LogFile+".stderr", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer stderr.Close()
	cmd := exec.Command(m.bin, "-c", m.conf)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", m.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	m.cmd, m.done = cmd, done
	if err := m.waitListening(); err != nil {
		m.Stop()
		return fmt.Errorf("%w\n%s", err, m.logTail())
	}
	return nil
}

// waitListening polls the port until it accepts a connection, the process
// exits, or mosquittoStartTimeout passes.
func (m *Mosquitto) waitListening() error {
	deadline := time.After(mosquittoStartTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port))
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-m.done:
			return fmt.Errorf("mosquitto exited at start")
		case <-deadline:
			return fmt.Errorf("mosquitto not listening on %s after %v", addr, mosquittoStartTimeout)
		case <-tick.C:
		}
	}
}

// Reload makes the broker read its configuration again (SIGHUP): files it
// names, such as an acl_file, may have changed.
func (m *Mosquitto) Reload() {
	m.t.Helper()
	if m.cmd == nil {
		m.t.Fatalf("reload mosquitto: not running")
	}
	if err := m.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		m.t.Fatalf("reload mosquitto: %v", err)
	}
}

// Stop terminates the broker (SIGTERM, then SIGKILL after 10 s) and waits
// for it to exit. Stopping a stopped broker does nothing.
func (m *Mosquitto) Stop() {
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
	m.cmd, m.done = nil, nil
}

// logTail returns the end of mosquitto's log and stderr, for failure messages.
func (m *Mosquitto) logTail() string {
	var out string
	for _, f := range []string{m.LogFile + ".stderr", m.LogFile} {
		b, _ := os.ReadFile(f)
		if len(b) > 2000 {
			b = b[len(b)-2000:]
		}
		out += fmt.Sprintf("--- %s\n%s", filepath.Base(f), b)
	}
	return out
}

// Connections returns how many connections the broker has accepted from
// clientID over its life (every Start since the test began): the broker's
// own count, for tests that prove a client kept its connection. It reads
// the "New client connected from <addr> as <id> (…)" lines that log_type
// notice writes before the CONNACK, so a connection a client has seen
// accepted is already counted.
func (m *Mosquitto) Connections(clientID string) int {
	m.t.Helper()
	data, err := os.ReadFile(m.LogFile)
	if err != nil {
		m.t.Fatalf("mosquitto connections: %v", err)
	}
	n := 0
	for line := range strings.Lines(string(data)) {
		if _, rest, ok := strings.Cut(line, ": New client connected from "); ok &&
			strings.Contains(rest, " as "+clientID+" (") {
			n++
		}
	}
	return n
}
