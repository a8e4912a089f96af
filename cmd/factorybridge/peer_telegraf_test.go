package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
)

// Telegraf's settings in BenchmarkPeers: those of the issue (#17), its
// defaults otherwise.
const (
	// telegrafTopic is the topic of outputs.mqtt's sample config; the
	// plugin has no default.
	telegrafTopic = `telegraf/{{ .Tag "host" }}/{{ .Name }}`
	// telegrafNodesPerInput is the most nodes one [[inputs.opcua_listener]]
	// gets. The plugin creates all its monitored items in one
	// CreateMonitoredItems call, and the simulator (servers commonly limit
	// this) takes at most 10,000 per call (maxMonitoredItemsPerCall in
	// testdata/simulator/factorysim.c); so larger node lists are split
	// into several inputs, each with its own session, as a user would.
	telegrafNodesPerInput = 10000
	// telegrafStopTimeout bounds Telegraf's shutdown (a final flush of its
	// in-memory buffer) before it is killed.
	telegrafStopTimeout = 30 * time.Second
)

// telegrafConfig is the config of one Telegraf run of BenchmarkPeers.
type telegrafConfig struct {
	endpoint string // the simulator's OPC UA endpoint
	broker   string // mosquitto's URL, tcp://127.0.0.1:<port>
	nodes    int    // load.0 … load.<nodes-1>
	// namespace is the index of urn:factorybridge:load on the server
	// (loadNamespaceIndex). Telegraf 1.37.2 has namespace_uri, but its
	// opcua_listener resolves the URI before it connects, and so fails
	// with "namespace array is not available".
	namespace uint16
	sampling  string // sampling interval of every node, e.g. "100ms"
	queue     int    // queue size of every node
	layout    string // outputs.mqtt's layout; "" = its default, non-batch
	perInput  int    // nodes per input; 0 = telegrafNodesPerInput
}

// render returns c as Telegraf TOML: outputs.mqtt with the JSON
// serializer, then the nodes in inputs of at most perInput.
func (c telegrafConfig) render() string {
	var s strings.Builder
	fmt.Fprintf(&s, "[[outputs.mqtt]]\n  servers = [%q]\n  topic = '%s'\n  data_format = \"json\"\n",
		strings.Replace(c.broker, "tcp://", "", 1), telegrafTopic)
	if c.layout != "" {
		fmt.Fprintf(&s, "  layout = %q\n", c.layout)
	}
	per := cmp.Or(c.perInput, telegrafNodesPerInput)
	for first := 0; first < c.nodes; first += per {
		c.renderInput(&s, first, min(c.nodes, first+per))
	}
	return s.String()
}

// renderInput writes one inputs.opcua_listener for load nodes [first, end).
// The queue size can only be set per node (monitoring_params), so every
// node is written in the bracketed notation.
func (c telegrafConfig) renderInput(s *strings.Builder, first, end int) {
	fmt.Fprintf(s, "\n[[inputs.opcua_listener]]\n  endpoint = %q\n  subscription_interval = \"100ms\"\n", c.endpoint)
	fmt.Fprintf(s, "  [[inputs.opcua_listener.group]]\n    namespace = \"%d\"\n    identifier_type = \"s\"\n", c.namespace)
	for i := first; i < end; i++ {
		fmt.Fprintf(s, "    [[inputs.opcua_listener.group.nodes]]\n      name = \"n%d\"\n      identifier = \"load.%d\"\n", i, i)
		fmt.Fprintf(s, "      [inputs.opcua_listener.group.nodes.monitoring_params]\n        sampling_interval = %q\n        queue_size = %d\n",
			c.sampling, c.queue)
	}
}

// loadNamespaceIndex reads the index of the simulator's load namespace from
// the server's NamespaceArray.
func loadNamespaceIndex(tb testing.TB, endpoint string) uint16 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := opcua.NewClient(endpoint, opcua.SecurityMode(ua.MessageSecurityModeNone), opcua.AutoReconnect(false))
	if err != nil {
		tb.Fatalf("create OPC UA client: %v", err)
	}
	if err := c.Connect(ctx); err != nil {
		tb.Fatalf("connect to %s: %v", endpoint, err)
	}
	defer c.Close(ctx)
	ns, err := c.FindNamespace(ctx, "urn:factorybridge:load")
	if err != nil {
		tb.Fatalf("find the load namespace: %v", err)
	}
	return ns
}

// telegrafProcess is a Telegraf of one BenchmarkPeers run, stopped at the
// latest when the benchmark ends.
type telegrafProcess struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	logPath string
	mark    int // Warnings counts from this offset of the log
}

// startTelegraf runs the Telegraf binary bin with config c and returns once
// the process started.
func startTelegraf(tb testing.TB, bin string, c telegrafConfig) *telegrafProcess {
	tb.Helper()
	dir := tb.TempDir()
	conf := filepath.Join(dir, "telegraf.conf")
	if err := os.WriteFile(conf, []byte(c.render()), 0o600); err != nil {
		tb.Fatalf("write Telegraf config: %v", err)
	}
	p := &telegrafProcess{done: make(chan struct{}), logPath: filepath.Join(dir, "telegraf.log")}
	log, err := os.Create(p.logPath)
	if err != nil {
		tb.Fatalf("create Telegraf log: %v", err)
	}
	defer log.Close() // the child has its own copy
	p.cmd = exec.Command(bin, "--config", conf)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	// Pdeathsig: a benchmark killed by its timeout must not leave Telegraf.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start Telegraf: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	tb.Cleanup(p.Stop)
	return p
}

// PID is the process id of Telegraf.
func (p *telegrafProcess) PID() int { return p.cmd.Process.Pid }

// Running reports whether Telegraf has not exited.
func (p *telegrafProcess) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits for Telegraf to exit, killing it after
// telegrafStopTimeout.
func (p *telegrafProcess) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(telegrafStopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// LogTail is the end of Telegraf's log, for failures.
func (p *telegrafProcess) LogTail() string {
	data, _ := os.ReadFile(p.logPath)
	return string(data[max(0, len(data)-4096):])
}

// Mark makes Warnings count from now on, so that the deprecation notices
// Telegraf logs at every start are left out.
func (p *telegrafProcess) Mark() {
	data, _ := os.ReadFile(p.logPath)
	p.mark = len(data)
}

// Warnings returns how many warnings and errors Telegraf logged since Mark,
// and the first of them: dropped metrics show there.
func (p *telegrafProcess) Warnings() (int, string) {
	data, _ := os.ReadFile(p.logPath)
	n, first := 0, ""
	for line := range strings.Lines(string(data[min(p.mark, len(data)):])) {
		if strings.Contains(line, " W! ") || strings.Contains(line, " E! ") {
			if n++; n == 1 {
				first = strings.TrimSpace(line)
			}
		}
	}
	return n, first
}
