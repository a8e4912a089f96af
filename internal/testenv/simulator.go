//go:build linux

package testenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// Deadlines of the simulator's lifecycle. Startup takes well under a second;
// the margins are for a loaded CI machine.
const (
	simReadyTimeout = 30 * time.Second
	simStopTimeout  = 10 * time.Second
	simBuildTimeout = 10 * time.Minute
	simLogTail      = 4096 // bytes of the simulator log quoted in failures
)

// SimOptions configures the open62541 factory simulator
// (testdata/simulator/README.md describes its address space).
type SimOptions struct {
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// Seed seeds the stations' PRNGs: the same seed gives the same sequence
	// of states. Zero is a seed like any other; the simulator reads the bits
	// as unsigned.
	Seed int64
	// LoadNodes is the number of load nodes load.0 … load.<N-1>; 0 = none.
	LoadNodes int
	// Rate is the changes per second of every load node; 0 = 10.
	Rate int
	// Speed makes the line's simulated time run Speed times faster than real
	// time; 0 = 1.
	Speed float64
	// Hostile adds the urn:factorybridge:hostile namespace: oversized,
	// invalid and type-changing values (testdata/simulator/hostile.c).
	Hostile bool
	// Truth, when set, is the file the simulator appends its ground-truth
	// log to (testdata/simulator/README.md, "Ground truth"); it is kept
	// across Stop and Start, so one file holds every run.
	Truth string
	// CounterBits makes the part counters UInt16 or UInt32 (16, 32), which
	// wrap at that width; 0 keeps UInt64.
	CounterBits int
	// CounterStart is the part counters' first value; 0 starts at zero.
	CounterStart uint64
	// ResetAt resets every station's part counters to 0 at that simulated
	// time after the start; 0 never does.
	ResetAt time.Duration
	// FaultScale multiplies every fault's length; 0 keeps them (10–60 s).
	FaultScale float64
	// History keeps every value of the stations' variables and the load
	// nodes for HistoryRead (testdata/simulator/history.c). The history
	// dies with the process: cut the connection (Proxy) to make a gap the
	// server can fill, rather than restarting it.
	History bool
	// NoSubscriptions makes every CreateSubscription fail, as on a server
	// without the subscription service; MaxNodesPerRead, when positive,
	// limits the nodes of one Read request.
	NoSubscriptions bool
	MaxNodesPerRead int
	// Secure, when set, runs the simulator in secure mode: encrypted
	// endpoints, a client trust list, username logins and X.509 user
	// certificates (testdata/simulator/secure.c). Nil keeps security None,
	// anonymous.
	Secure *SimSecurity
	// FakeTime, when set, runs the simulator under libfaketime with its
	// wall clock off by this offset ("+2h", "-10m"; faketime.go);
	// Simulator.SetFakeTime changes it while it runs.
	FakeTime string
	// LogSessions logs at level info, which names every SecureChannel and
	// session the server opens, so that Simulator.Sessions can count them
	// (simulator_sessions.go). Off keeps the log at warnings.
	LogSessions bool
}

// SimAppURI is the application URI of the simulator in secure mode: its
// certificate must carry it in the subjectAltName.
const SimAppURI = "urn:factorybridge:factorysim"

// SimSecurity is the secure mode of the simulator. The files are read at
// every Start, so a test may replace them between Stop and Start.
type SimSecurity struct {
	// Cert and Key are the server's certificate and RSA key, DER. Required.
	Cert, Key string
	// TrustDir holds the client certificates (*.der) it trusts; empty
	// trusts none.
	TrustDir string
	// Users are "user:password" logins; none keeps anonymous access.
	Users []string
	// UserTrust is a DER certificate file, or a directory of *.der files:
	// the only X.509 user certificates the simulator accepts in identity
	// tokens (others get BadIdentityTokenRejected). Empty leaves open62541's
	// default, which trusts the certificates of TrustDir as users too.
	UserTrust string
	// Deprecated adds endpoints with the SHA-1 policies Basic128Rsa15 and
	// Basic256 (Sign, SignAndEncrypt) to the usual ones.
	Deprecated bool
}

// Simulator is a running factorysim process owned by one test. It is stopped
// when the test ends.
type Simulator struct {
	// Endpoint is the server's URL, opc.tcp://127.0.0.1:<Port>.
	Endpoint string
	// Port is the TCP port, kept across Stop and Start.
	Port int

	bin       string
	args      []string
	logPath   string
	env       []string // nil: the test's own
	clockFile string   // libfaketime's offset, with FakeTime

	mu       sync.Mutex
	proc     *simProcess // nil when not running
	sessions bool        // the running options' LogSessions
}

// simProcess is one run of the simulator binary. done is closed by the
// goroutine that drains stdout and reaps the process, after setting err.
type simProcess struct {
	cmd   *exec.Cmd
	ready chan string // the first stdout line, then closed
	done  chan struct{}
	err   error
}

var simBuild struct {
	once sync.Once
	bin  string
	err  error
}

// StartSimulator builds the simulator if needed, starts it and waits until it
// listens. The test is skipped (or fails, when integration tests are required)
// if the simulator cannot be built; FACTORYSIM may name a prebuilt binary.
func StartSimulator(t testing.TB, opts SimOptions) *Simulator {
	t.Helper()
	bin, err := simulatorBinary()
	if err != nil {
		Unavailable(t, err.Error())
	}
	port := opts.Port
	if port == 0 {
		port = FreePort(t)
	}
	s := &Simulator{
		Endpoint: fmt.Sprintf("opc.tcp://127.0.0.1:%d", port),
		Port:     port,
		bin:      bin,
		args:     opts.args(port),
		logPath:  filepath.Join(t.TempDir(), "factorysim.log"),
		sessions: opts.LogSessions,
	}
	t.Cleanup(func() { s.cleanup(t) })
	s.setupFakeTime(t, opts.FakeTime)
	if err := s.Start(); err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	return s
}

func (o SimOptions) args(port int) []string {
	args := []string{
		"-port", strconv.Itoa(port),
		"-seed", strconv.FormatUint(uint64(o.Seed), 10),
		"-load-nodes", strconv.Itoa(o.LoadNodes),
	}
	if o.Rate != 0 {
		args = append(args, "-rate", strconv.Itoa(o.Rate))
	}
	if o.Speed != 0 {
		args = append(args, "-speed", strconv.FormatFloat(o.Speed, 'g', -1, 64))
	}
	if o.Hostile {
		args = append(args, "-hostile", "1")
	}
	if o.Truth != "" {
		args = append(args, "-truth", o.Truth)
	}
	if o.CounterBits != 0 {
		args = append(args, "-counter-bits", strconv.Itoa(o.CounterBits))
	}
	if o.CounterStart != 0 {
		args = append(args, "-counter-start", strconv.FormatUint(o.CounterStart, 10))
	}
	if o.ResetAt > 0 {
		args = append(args, "-reset-at", strconv.FormatFloat(o.ResetAt.Seconds(), 'f', -1, 64))
	}
	if o.FaultScale != 0 {
		args = append(args, "-fault-scale", strconv.FormatFloat(o.FaultScale, 'g', -1, 64))
	}
	args = append(args, o.acquisitionArgs()...)
	if o.LogSessions {
		args = append(args, "-log-level", "info")
	}
	if sec := o.Secure; sec != nil {
		args = append(args, "-secure", "1", "-cert", sec.Cert, "-key", sec.Key)
		if sec.TrustDir != "" {
			args = append(args, "-trust-dir", sec.TrustDir)
		}
		if len(sec.Users) > 0 {
			args = append(args, "-users", strings.Join(sec.Users, ","))
		}
		if sec.UserTrust != "" {
			args = append(args, "-user-trust", sec.UserTrust)
		}
		if sec.Deprecated {
			args = append(args, "-deprecated", "1")
		}
	}
	return args
}

// simulatorBinary returns $FACTORYSIM, or builds .cache/bin/factorysim with
// scripts/open62541.sh once per test binary. The script serializes
// concurrent builds of several test binaries with a file lock.
func simulatorBinary() (string, error) {
	if bin := os.Getenv("FACTORYSIM"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("FACTORYSIM: %w", err)
		}
		return bin, nil
	}
	simBuild.once.Do(func() {
		simBuild.bin, simBuild.err = buildSimulator()
	})
	return simBuild.bin, simBuild.err
}

func buildSimulator() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), simBuildTimeout)
	defer cancel()
	root := RepoRoot()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "open62541.sh"))
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build factorysim with scripts/open62541.sh: %v\n%s", err, out)
	}
	return filepath.Join(root, ".cache", "bin", "factorysim"), nil
}

// Reconfigure sets the options the next Start runs the simulator with; the
// port stays. A test restarting the simulator as a PLC whose counters restart
// at zero uses it to drop CounterStart.
func (s *Simulator) Reconfigure(opts SimOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.args = opts.args(s.Port)
	s.sessions = opts.LogSessions
}

// Start starts the simulator again on the same port, e.g. after Stop or Kill
// in a restart test, and waits until it listens.
func (s *Simulator) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("start simulator: already running")
	}
	p, err := s.spawn()
	if err != nil {
		return err
	}
	if err := p.waitReady(s.Endpoint); err != nil {
		p.kill()
		return fmt.Errorf("%w\n%s", err, s.LogTail())
	}
	s.proc = p
	return nil
}

func (s *Simulator) spawn() (*simProcess, error) {
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open simulator log: %w", err)
	}
	defer logFile.Close() // the child has its own copy
	cmd := exec.Command(s.bin, s.args...)
	cmd.Env = s.env
	cmd.Stderr = logFile
	// Pdeathsig: a test binary killed by its timeout must not leave servers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", s.bin, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.bin, err)
	}
	p := &simProcess{cmd: cmd, ready: make(chan string, 1), done: make(chan struct{})}
	go p.reap(stdout)
	return p, nil
}

// reap hands the first stdout line to waitReady, drains the rest so the
// simulator never blocks on a full pipe, and waits for the process to exit.
func (p *simProcess) reap(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	if sc.Scan() {
		p.ready <- sc.Text()
	}
	close(p.ready)
	_, _ = io.Copy(io.Discard, stdout)
	p.err = p.cmd.Wait()
	close(p.done)
}

func (p *simProcess) waitReady(endpoint string) error {
	timer := time.NewTimer(simReadyTimeout)
	defer timer.Stop()
	select {
	case line, ok := <-p.ready:
		if !ok {
			<-p.done
			return fmt.Errorf("simulator exited before READY: %v", p.err)
		}
		if want := "READY " + endpoint; line != want {
			return fmt.Errorf("simulator printed %q, want %q", line, want)
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("simulator not READY after %v", simReadyTimeout)
	}
}

func (p *simProcess) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop shuts the simulator down with SIGTERM and waits for it to exit; after
// a deadline it kills it. It returns an error when the simulator did not exit
// cleanly. Stopping a stopped simulator does nothing.
func (s *Simulator) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(simStopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		p.kill()
		return fmt.Errorf("stop simulator: no exit %v after SIGTERM, killed", simStopTimeout)
	}
	if p.err != nil {
		return fmt.Errorf("stop simulator: %w", p.err)
	}
	return nil
}

// Kill ends the simulator with SIGKILL, as a crash would, and waits until it
// is gone.
func (s *Simulator) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
}

// LogTail returns the end of the simulator's stderr log, for failure messages.
func (s *Simulator) LogTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no simulator log: %v)", err)
	}
	if len(b) > simLogTail {
		b = b[len(b)-simLogTail:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return "simulator log " + s.logPath + ":\n" + strings.TrimRight(string(b), "\n")
}

func (s *Simulator) cleanup(t testing.TB) {
	if err := s.Stop(); err != nil {
		t.Errorf("%v\n%s", err, s.LogTail())
		return
	}
	if t.Failed() {
		t.Log(s.LogTail())
	}
}
