package testenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Deadlines of the bridge binary's lifecycle.
const (
	// BridgeStopTimeout bounds Stop: the bridge's own shutdown takes at most
	// its flush (5 s) and drain (10 s) timeouts.
	BridgeStopTimeout = 30 * time.Second
	bridgeLogTail     = 8192 // bytes of the bridge log quoted in failures
)

// Bridge is a factorybridge process of one test ("factorybridge run", or
// another command with StartBridgeArgs) with its logs appended to LogPath:
// the one way tests start a bridge. It runs the binary, as operators do, so
// that signals, exit codes and the process's own globals (the standard
// logger, gopcua's limits) are those of production. Kill, Stop and Restart act on the running
// process; the config (and so the buffer file) stays the same across
// restarts. The process is stopped when the test ends.
type Bridge struct {
	// Config is the config file the bridge runs with.
	Config string
	// LogPath is the file stdout and stderr of every run are appended to.
	LogPath string

	t    testing.TB
	bin  string
	args []string

	mu   sync.Mutex
	proc *bridgeProcess // nil when not running
	mark int64          // WaitLog searches the log from this offset
	runs int
}

// bridgeProcess is one run. done is closed after exit is set.
type bridgeProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
	exit int // exit code; -1 when ended by a signal
}

// StartBridge runs "factorybridge run -config configPath -log-format json
// -status-interval 1s -http 127.0.0.1:0" followed by args (later flags win)
// and returns once the process started; wait for readiness with WaitLog.
// The status page listens on a free port, so that bridges of tests running
// at once do not compete for the default one.
func StartBridge(t testing.TB, configPath string, args ...string) *Bridge {
	t.Helper()
	b := StartBridgeArgs(t, append([]string{"run", "-config", configPath,
		"-log-format", "json", "-status-interval", "1s", "-http", "127.0.0.1:0"}, args...)...)
	b.Config = configPath
	return b
}

// StartBridgeArgs runs the bridge binary with exactly args (a command
// other than run, such as "demo", or run with flags of the test's own) and
// returns once the process started. Config is empty.
func StartBridgeArgs(t testing.TB, args ...string) *Bridge {
	t.Helper()
	b := &Bridge{
		LogPath: filepath.Join(t.TempDir(), "factorybridge.log"),
		t:       t,
		bin:     BridgeBinary(t),
		args:    args,
	}
	t.Cleanup(b.cleanup)
	b.Start()
	return b
}

// Start starts the bridge again after Kill or Stop, on the same config and
// log. It fails the test when the bridge is already running.
func (b *Bridge) Start() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc != nil {
		b.t.Fatal("start bridge: already running")
	}
	log, err := os.OpenFile(b.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		b.t.Fatalf("open bridge log: %v", err)
	}
	defer log.Close() // the child has its own copy
	b.runs++
	fmt.Fprintf(log, "--- testenv: bridge run %d\n", b.runs)
	if fi, err := log.Stat(); err == nil {
		b.mark = fi.Size()
	}
	cmd := exec.Command(b.bin, b.args...)
	cmd.Stdout, cmd.Stderr = log, log
	// Pdeathsig: a test binary killed by its timeout must not leave bridges.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start bridge: %v", err)
	}
	p := &bridgeProcess{cmd: cmd, done: make(chan struct{})}
	go p.wait()
	b.proc = p
}

func (p *bridgeProcess) wait() {
	err := p.cmd.Wait()
	p.exit = 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		p.exit = ee.ExitCode()
	} else if err != nil {
		p.exit = -1
	}
	close(p.done)
}

// PID returns the process id of the running bridge, 0 when it is not running.
func (b *Bridge) PID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return 0
	}
	return b.proc.cmd.Process.Pid
}

// Running reports whether the current process has not exited.
func (b *Bridge) Running() bool {
	b.mu.Lock()
	p := b.proc
	b.mu.Unlock()
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Kill ends the bridge with SIGKILL, as a crash would, and waits until it is
// gone. Killing a stopped bridge does nothing.
func (b *Bridge) Kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p := b.proc; p != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		b.proc = nil
	}
}

// Stop sends SIGTERM, waits up to BridgeStopTimeout for the bridge to exit
// and returns its exit code. After the deadline it kills the bridge, fails
// the test and returns -1. Stopping a stopped bridge returns 0.
func (b *Bridge) Stop() int {
	b.t.Helper()
	return b.stop(syscall.SIGTERM)
}

// Interrupt is Stop with SIGINT, the signal of Ctrl-C in a terminal.
func (b *Bridge) Interrupt() int {
	b.t.Helper()
	return b.stop(syscall.SIGINT)
}

func (b *Bridge) stop(sig syscall.Signal) int {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.proc
	if p == nil {
		return 0
	}
	b.proc = nil
	_ = p.cmd.Process.Signal(sig)
	timer := time.NewTimer(BridgeStopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.exit
	case <-timer.C:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		b.t.Errorf("bridge did not exit %v after %v; killed\n%s", BridgeStopTimeout, sig, b.LogTail())
		return -1
	}
}

// Restart stops the bridge (SIGTERM, as Stop) if it is running and starts it
// again. It fails the test when the bridge exited with a code other than 0.
func (b *Bridge) Restart() {
	b.t.Helper()
	if code := b.Stop(); code != 0 {
		b.t.Fatalf("bridge exited with code %d\n%s", code, b.LogTail())
	}
	b.Start()
}

// RSS returns the resident set size (VmRSS) of the running bridge in bytes,
// or 0 when it is not running.
func (b *Bridge) RSS() int64 {
	return b.procStatus("VmRSS:")
}

// RSSAnon returns the anonymous part of the resident set (RssAnon: heap and
// stacks, not the mapped buffer file) in bytes, or 0 when not running.
func (b *Bridge) RSSAnon() int64 {
	return b.procStatus("RssAnon:")
}

// procStatus reads a "kB" field of /proc/<pid>/status.
func (b *Bridge) procStatus(field string) int64 {
	pid := b.PID()
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Logs returns everything every run of the bridge logged so far.
func (b *Bridge) Logs() string {
	data, _ := os.ReadFile(b.LogPath)
	return string(data)
}

// LogTail returns the end of the log, for failure messages.
func (b *Bridge) LogTail() string {
	data, _ := os.ReadFile(b.LogPath)
	if len(data) > bridgeLogTail {
		data = data[len(data)-bridgeLogTail:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return "bridge log " + b.LogPath + ":\n" + string(data)
}

// Mark makes the next WaitLog calls look only at lines written from now on.
// Start sets the mark to the beginning of the new run.
func (b *Bridge) Mark() {
	fi, err := os.Stat(b.LogPath)
	if err != nil {
		return
	}
	b.mu.Lock()
	b.mark = fi.Size()
	b.mu.Unlock()
}

// WaitLog waits until a line written since the last Start or Mark contains
// substr, and returns it. It fails the test after timeout.
func (b *Bridge) WaitLog(t testing.TB, substr string, timeout time.Duration) string {
	t.Helper()
	return b.WaitLogFunc(t, func(line string) bool { return strings.Contains(line, substr) }, timeout,
		fmt.Sprintf("a log line containing %q", substr))
}

// WaitLogFunc waits until a line written since the last Start or Mark
// satisfies match, and returns it. It fails the test with what after
// timeout, or when the bridge exits meanwhile.
func (b *Bridge) WaitLogFunc(t testing.TB, match func(line string) bool, timeout time.Duration, what string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		running := b.Running() // before the search: a last line before exit counts
		if line, ok := b.findLine(match); ok {
			return line
		}
		if !running {
			t.Fatalf("bridge exited while waiting for %s\n%s", what, b.LogTail())
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\n%s", timeout, what, b.LogTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *Bridge) findLine(match func(string) bool) (string, bool) {
	b.mu.Lock()
	mark := b.mark
	b.mu.Unlock()
	f, err := os.Open(b.LogPath)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if _, err := f.Seek(mark, 0); err != nil {
		return "", false
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if line := sc.Text(); match(line) {
			return line, true
		}
	}
	return "", false
}

// cleanup stops the bridge at the end of the test and fails the test when
// the race detector reported a race in it.
func (b *Bridge) cleanup() {
	b.Stop()
	logs := b.Logs()
	if strings.Contains(logs, "WARNING: DATA RACE") {
		b.t.Errorf("the bridge reported a data race:\n%s", logs[strings.Index(logs, "WARNING: DATA RACE"):])
		return
	}
	if b.t.Failed() {
		b.t.Log(b.LogTail())
	}
}
