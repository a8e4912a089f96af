package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

// peerParams are BenchmarkPeers' knobs, from FB_PEER_* variables
// (scripts/peer-bench.sh documents them).
type peerParams struct {
	nodes          []int
	rate           int
	warmup, window time.Duration
	programs       []string
	telegraf       string // the Telegraf binary, from TELEGRAF
}

// The settings (#17), the same for every program: sampling
// interval and queue size of every node.
const (
	peerSampling = "100ms"
	peerQueue    = 20
)

func peerParamsFromEnv(tb testing.TB) peerParams {
	nodes, err := parseNodeCounts(envString("FB_PEER_NODES", "10000 30000"))
	if err != nil {
		tb.Fatalf("FB_PEER_NODES: %v", err)
	}
	return peerParams{
		nodes:    nodes,
		rate:     envInt("FB_PEER_RATE", 10),
		warmup:   envDuration("FB_PEER_WARMUP", 20*time.Second),
		window:   envDuration("FB_PEER_WINDOW", 60*time.Second),
		programs: strings.Fields(envString("FB_PEER_PROGRAMS", "factorybridge factorybridge-sampling0 telegraf")),
		telegraf: os.Getenv("TELEGRAF"),
	}
}

// peerProgram is a program BenchmarkPeers measures, by its FB_PEER_PROGRAMS
// name.
type peerProgram struct {
	label string // its name in the table
	count string // the peerCounter key of its messages
	start func(b *testing.B, p peerParams, e peerEnv) peerProcess
}

// peerEnv is what every program of one node count shares.
type peerEnv struct {
	nodes            int
	endpoint, broker string
}

// peerProcess is a running program.
type peerProcess interface {
	PID() int
	Running() bool
	Stop()
	LogTail() string
}

var peerPrograms = map[string]peerProgram{
	"factorybridge":           {"factorybridge", countBridge, startPeerBridge(peerSampling)},
	"factorybridge-sampling0": {"factorybridge, sampling 0s", countBridge, startPeerBridge("0s")},
	"factorybridge-nolimit":   {"factorybridge, GOMEMLIMIT=off", countBridge, startPeerBridgeNoLimit},
	"telegraf":                {"Telegraf 1.37.2", countTelegraf, startPeerTelegraf("")},
	"telegraf-batch":          {"Telegraf 1.37.2, layout batch", countTelegraf, startPeerTelegraf("batch")},
}

// BenchmarkPeers measures factorybridge and Telegraf 1.37.2 (inputs.opcua_listener,
// outputs.mqtt, JSON) one after the other — never both at once — on the
// same open62541 load server, mosquitto and counting subscriber, and prints
// issue #17's table: delivered of offered, CPU µs per reading, RSS (median
// and peak) and wire bytes per reading. Run it with scripts/peer-bench.sh,
// which builds Telegraf.
func BenchmarkPeers(b *testing.B) {
	p := peerParamsFromEnv(b)
	for _, name := range p.programs {
		if _, ok := peerPrograms[name]; !ok {
			b.Fatalf("FB_PEER_PROGRAMS: unknown program %q (factorybridge, factorybridge-sampling0, factorybridge-nolimit, telegraf, telegraf-batch)", name)
		}
	}
	broker := testenv.StartMosquitto(b)
	cnt := newPeerCounter()
	subscribePeers(b, broker.URL, cnt)
	var rows []peerRow
	for _, n := range p.nodes {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			sim := testenv.StartSimulator(b, testenv.SimOptions{LoadNodes: n, Rate: p.rate})
			e := peerEnv{nodes: n, endpoint: sim.Endpoint, broker: broker.URL}
			for _, name := range p.programs {
				b.Run(name, func(b *testing.B) { rows = append(rows, runPeer(b, p, e, peerPrograms[name], cnt)) })
			}
		})
	}
	fmt.Fprintf(os.Stdout, "\nPeers on the open62541 load server: %d Hz per node, sampling %s (unless 0s), queue size %d; warm-up %s, window %s\n\n",
		p.rate, peerSampling, peerQueue, p.warmup, p.window)
	printPeerTable(os.Stdout, rows)
	for _, e := range cnt.errors() {
		b.Errorf("counter: %s", e)
	}
}

// runPeer starts one program, measures it over the window after the
// warm-up, stops it and waits until its last messages have arrived, so that
// the next program starts on an idle machine.
func runPeer(b *testing.B, p peerParams, e peerEnv, prog peerProgram, cnt *peerCounter) peerRow {
	before := cnt.snapshot(prog.count).readings // an earlier run's, at another node count
	proc := prog.start(b, p, e)
	testenv.Wait(b, 5*time.Minute, prog.label+"'s first readings", func() bool {
		if !proc.Running() {
			b.Fatalf("%s exited\n%s", prog.label, proc.LogTail())
		}
		cnt.lost(b)
		return cnt.snapshot(prog.count).readings > before
	})
	telegraf, _ := proc.(*telegrafProcess)
	if telegraf != nil {
		telegraf.Mark()
	}
	time.Sleep(p.warmup) // let subscriptions, rates and the heap settle
	row := measurePeer(b, proc, cnt, prog.count, p.window)
	cnt.lost(b)
	row.nodes, row.program, row.rate = e.nodes, prog.label, p.rate
	if telegraf != nil {
		row.warnings, row.firstWarning = telegraf.Warnings()
	}
	proc.Stop()
	testenv.Wait(b, time.Minute, "the broker to deliver the rest", func() bool { return cnt.quiet(2 * time.Second) })
	row.report(b)
	return row
}

// measurePeer measures proc over window: readings and wire bytes at the
// counter, CPU time from /proc/<pid>/stat, VmRSS every second and VmHWM;
// and the CPU time of this process (the counter), which shares the cores.
func measurePeer(b *testing.B, proc peerProcess, cnt *peerCounter, key string, window time.Duration) peerRow {
	pid, self := proc.PID(), os.Getpid()
	c0, cpu0, t0 := cnt.snapshot(key), processCPU(b, pid), time.Now()
	self0 := processCPU(b, self)
	var rss []int64
	for time.Since(t0) < window {
		time.Sleep(time.Second)
		rss = append(rss, procStatusKB(pid, "VmRSS:")<<10)
	}
	c1, cpu1, elapsed := cnt.snapshot(key), processCPU(b, pid), time.Since(t0)
	return peerRow{
		elapsed: elapsed, readings: c1.readings - c0.readings, wire: c1.wire - c0.wire,
		cpu: cpu1 - cpu0, rss: median(rss), peakRSS: procStatusKB(pid, "VmHWM:") << 10,
		counterCPU: processCPU(b, self) - self0,
	}
}

// startPeerBridge returns the start of factorybridge with the given sampling
// interval.
func startPeerBridge(sampling string) func(*testing.B, peerParams, peerEnv) peerProcess {
	return func(b *testing.B, _ peerParams, e peerEnv) peerProcess {
		return peerBridge{testenv.StartBridge(b, writePeerBridgeConfig(b, e, sampling))}
	}
}

// startPeerBridgeNoLimit starts factorybridge without the soft memory
// limit it derives from its configuration (bridge/memlimit.go), to show
// what the limit costs in CPU and saves in memory, in the same run.
func startPeerBridgeNoLimit(b *testing.B, p peerParams, e peerEnv) peerProcess {
	b.Setenv("GOMEMLIMIT", "off") // the bridge inherits it; restored when b ends
	return startPeerBridge(peerSampling)(b, p, e)
}

// startPeerTelegraf returns the start of Telegraf with outputs.mqtt's
// layout; "" keeps the default (non-batch: one message per metric).
func startPeerTelegraf(layout string) func(*testing.B, peerParams, peerEnv) peerProcess {
	return func(b *testing.B, p peerParams, e peerEnv) peerProcess {
		if p.telegraf == "" {
			testenv.Unavailable(b, "TELEGRAF names no Telegraf binary (scripts/peer-bench.sh builds one)")
		}
		return startTelegraf(b, p.telegraf, telegrafConfig{
			endpoint: e.endpoint, broker: e.broker, nodes: e.nodes, namespace: loadNamespaceIndex(b, e.endpoint),
			sampling: peerSampling, queue: peerQueue, layout: layout,
		})
	}
}

// peerBridge is a testenv.Bridge as a peerProcess.
type peerBridge struct{ *testenv.Bridge }

func (p peerBridge) Stop() { p.Bridge.Stop() }

// writePeerBridgeConfig writes factorybridge's config for BenchmarkPeers:
// its defaults (publishing interval 1 s, batch delay 100 ms, durable buffer
// with fsync, topic factorybridge/{bridge}/{line}/readings) except the
// sampling interval and queue size.
func writePeerBridgeConfig(tb testing.TB, e peerEnv, sampling string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "[bridge]\nid = \"peer\"\ndata_dir = %q\n\n[mqtt]\nbroker = %q\n\n", tb.TempDir(), e.broker)
	fmt.Fprintf(&s, "[[servers]]\nname = \"sim\"\nendpoint = %q\nsampling_interval = %q\nqueue_size = %d\n\n",
		e.endpoint, sampling, peerQueue)
	s.WriteString("[[lines]]\nname = \"load\"\n\n[[lines.stations]]\nname = \"counters\"\n")
	for i := range e.nodes {
		fmt.Fprintf(&s, "\n[[lines.stations.nodes]]\nname = \"n%d\"\nid = \"nsu=urn:factorybridge:load;s=load.%d\"\n", i, i)
	}
	path := filepath.Join(tb.TempDir(), "peer.toml")
	if err := os.WriteFile(path, []byte(s.String()), 0o600); err != nil {
		tb.Fatalf("write bridge config: %v", err)
	}
	return path
}
