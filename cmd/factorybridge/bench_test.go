package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"factorybridge/internal/testenv"
)

// benchParams are BenchmarkEndToEnd's knobs, from FB_BENCH_* variables
// (scripts/bench.sh documents them).
type benchParams struct {
	nodes, rate             int
	warmup, steady, outage  time.Duration
	publishing, batchDelay  string
	sampling                string
	queueSize, commitMillis int
}

func benchParamsFromEnv() benchParams {
	return benchParams{
		nodes:        envInt("FB_BENCH_NODES", 30000),
		rate:         envInt("FB_BENCH_RATE", 10),
		warmup:       envDuration("FB_BENCH_WARMUP", 10*time.Second),
		steady:       envDuration("FB_BENCH_STEADY", 30*time.Second),
		outage:       envDuration("FB_BENCH_OUTAGE", 60*time.Second),
		publishing:   envString("FB_BENCH_PUBLISHING", "1s"),
		batchDelay:   envString("FB_BENCH_BATCH_DELAY", "1s"),
		sampling:     envString("FB_BENCH_SAMPLING", "0s"),
		queueSize:    envInt("FB_BENCH_QUEUE", 0),
		commitMillis: envInt("FB_BENCH_COMMIT_MS", 20),
	}
}

// BenchmarkEndToEnd measures the whole bridge as a separate process: the
// open62541 simulator with FB_BENCH_NODES load nodes at FB_BENCH_RATE Hz,
// mosquitto, and factorybridge with its durable buffer (fsync on). It
// reports delivered readings/s, the bridge's CPU µs per reading (rusage),
// its steady and peak RSS, wire bytes per reading, latency p50/p99 (source
// timestamp → arrival at a subscriber of the broker), and, after a broker
// outage of FB_BENCH_OUTAGE, the backlog drain rate. Run it with
// scripts/bench.sh.
func BenchmarkEndToEnd(b *testing.B) {
	p := benchParamsFromEnv()
	for range b.N {
		runEndToEnd(b, p)
	}
}

func runEndToEnd(b *testing.B, p benchParams) {
	sim := testenv.StartSimulator(b, testenv.SimOptions{LoadNodes: p.nodes, Rate: p.rate})
	broker := testenv.StartMosquitto(b)
	cons := &benchConsumer{}
	consumeBench(b, broker.URL, cons)
	bridge := testenv.StartBridge(b, writeBenchConfig(b, p, sim.Endpoint, broker.URL))
	bridge.WaitLog(b, `"msg":"monitored items"`, 5*time.Minute)
	testenv.Wait(b, 2*time.Minute, "first readings", func() bool { r, _, _ := cons.snapshot(false); return r > 0 })
	time.Sleep(p.warmup) // let rates, queues and the heap settle

	st := measureSteady(b, p, bridge, cons)
	out := measureOutage(b, p, bridge, broker, cons)
	report(b, p, st, out)
}

type steadyResult struct {
	readings, wire uint64
	cpu            time.Duration
	elapsed        time.Duration
	rss, peakRSS   int64
	p50, p99       time.Duration
	overflow       uint64
	ingested       uint64 // the bridge's own count of readings received from OPC UA
	acked          uint64 // the bridge's own count of readings the broker acknowledged
	rssAnon        int64
	messages       uint64 // MQTT messages that arrived
}

func measureSteady(b *testing.B, p benchParams, bridge *testenv.Bridge, cons *benchConsumer) steadyResult {
	r0, w0, _ := cons.snapshot(true)
	m0 := cons.messageCount()
	in0, ack0 := lastStatus(bridge, "received"), lastStatus(bridge, "published")
	cpu0, t0 := processCPU(b, bridge.PID()), time.Now()
	var rss []int64
	for time.Since(t0) < p.steady {
		time.Sleep(time.Second)
		rss = append(rss, bridge.RSS())
	}
	r1, w1, lat := cons.snapshot(true)
	res := steadyResult{
		readings: r1 - r0, wire: w1 - w0, cpu: processCPU(b, bridge.PID()) - cpu0,
		elapsed: time.Since(t0), rss: median(rss), peakRSS: procStatusKB(bridge.PID(), "VmHWM:") << 10,
		p50: percentile(lat, 50), p99: percentile(lat, 99),
		ingested: lastStatus(bridge, "received") - in0, acked: lastStatus(bridge, "published") - ack0,
		rssAnon: bridge.RSSAnon(), messages: cons.messageCount() - m0,
	}
	cons.mu.Lock()
	res.overflow = cons.overflow
	cons.mu.Unlock()
	return res
}

type outageResult struct {
	backlog          uint64 // buffer depth when the broker came back
	rssStart, rssEnd int64
	drain            time.Duration
	delivered        uint64 // readings delivered during the drain
	remaining        uint64 // backlog left when the drain wait ended
	rssAnon          int64  // anonymous RSS after the drain (RSS less mapped file pages)
}

func measureOutage(b *testing.B, p benchParams, bridge *testenv.Bridge, broker *testenv.Mosquitto, cons *benchConsumer) outageResult {
	var res outageResult
	broker.Stop()
	t0 := time.Now()
	time.Sleep(2 * time.Second)
	res.rssStart = bridge.RSS()
	time.Sleep(p.outage - time.Since(t0))
	res.rssEnd = bridge.RSS()
	res.backlog = lastStatus(bridge, "buffer_depth")
	broker.Start()
	r0, _, _ := cons.snapshot(true)
	start := time.Now()
	// Caught up: the buffer holds less than a second of ingest. Bounded, so
	// a bridge that cannot drain while ingesting still gets a report.
	deadline := start.Add(2 * p.outage)
	for lastStatus(bridge, "buffer_depth") >= uint64(p.nodes*p.rate) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	res.drain = time.Since(start)
	res.remaining = lastStatus(bridge, "buffer_depth")
	r1, _, _ := cons.snapshot(false)
	res.delivered = r1 - r0
	res.rssAnon = bridge.RSSAnon()
	return res
}

func report(b *testing.B, p benchParams, st steadyResult, out outageResult) {
	rate := float64(st.readings) / st.elapsed.Seconds()
	cpuPer := float64(st.cpu.Microseconds()) / float64(max(st.readings, 1))
	wirePer := float64(st.wire) / float64(max(st.readings, 1))
	drainRate := float64(out.delivered) / out.drain.Seconds()
	b.ReportMetric(rate, "readings/s")
	b.ReportMetric(cpuPer, "cpu-µs/reading")
	b.ReportMetric(float64(st.rss)/(1<<20), "steady-RSS-MB")
	b.ReportMetric(float64(st.peakRSS)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(wirePer, "wire-bytes/reading")
	b.ReportMetric(float64(st.p50.Milliseconds()), "p50-ms")
	b.ReportMetric(float64(st.p99.Milliseconds()), "p99-ms")
	b.ReportMetric(drainRate, "drain-readings/s")
	fmt.Fprintf(os.Stdout, `
factorybridge end-to-end benchmark
  load            %d nodes × %d Hz = %d readings/s offered; publishing %s, sampling %s, batch delay %s
  delivered       %.0f readings/s over %s at the subscriber (server queue overflows seen %d)
  bridge counters %.0f readings/s received from OPC UA, %.0f readings/s acknowledged by the broker
  bridge CPU      %.2f µs/reading (%.1f%% of one core)
  bridge RSS      steady %.1f MB, peak %.1f MB, anonymous %.1f MB
  wire            %.1f bytes/reading (MQTT PUBLISH packets), %.1f readings/message
  latency         p50 %s, p99 %s (source timestamp → subscriber)
  broker outage   %s: backlog %d readings; RSS %.1f MB → %.1f MB during the outage
  drain           %s: %.0f readings/s delivered (backlog + ongoing ingest), %d readings still buffered
  memory          anonymous RSS %.1f MB after the drain (the rest of RSS is the bbolt file's mapped pages)
`,
		p.nodes, p.rate, p.nodes*p.rate, p.publishing, p.sampling, p.batchDelay,
		rate, st.elapsed.Round(time.Second), st.overflow,
		float64(st.ingested)/st.elapsed.Seconds(), float64(st.acked)/st.elapsed.Seconds(),
		cpuPer, 100*st.cpu.Seconds()/st.elapsed.Seconds(),
		float64(st.rss)/(1<<20), float64(st.peakRSS)/(1<<20), float64(st.rssAnon)/(1<<20),
		wirePer, float64(st.readings)/float64(max(st.messages, 1)), st.p50, st.p99,
		p.outage, out.backlog, float64(out.rssStart)/(1<<20), float64(out.rssEnd)/(1<<20),
		out.drain.Round(100*time.Millisecond), drainRate, out.remaining, float64(out.rssAnon)/(1<<20))
}

func consumeBench(b *testing.B, url string, c *benchConsumer) {
	opts := mqtt.NewClientOptions().AddBroker(url).SetClientID("bench-consumer").
		SetCleanSession(true).SetAutoReconnect(true).SetConnectRetry(true).
		SetMaxReconnectInterval(200 * time.Millisecond)
	opts.SetOnConnectHandler(func(cl mqtt.Client) { cl.Subscribe("bench/#", 1, c.handle) })
	cl := mqtt.NewClient(opts)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("consumer connect: %v", tok.Error())
	}
	b.Cleanup(func() { cl.Disconnect(100) })
}

func writeBenchConfig(b *testing.B, p benchParams, endpoint, broker string) string {
	queue := p.queueSize
	if queue == 0 {
		pub, _ := time.ParseDuration(p.publishing)
		queue = max(10, 2*int(pub.Seconds()*float64(p.rate)+1))
	}
	var s strings.Builder
	fmt.Fprintf(&s, "[bridge]\nid = \"bench\"\ndata_dir = %q\n\n[buffer]\ncommit_interval = \"%dms\"\n\n", b.TempDir(), p.commitMillis)
	fmt.Fprintf(&s, "[mqtt]\nbroker = %q\ntopic = \"bench/{bridge}/{line}\"\n", broker)
	if p.batchDelay != "default" { // "default": the configuration's own
		fmt.Fprintf(&s, "max_batch_delay = %q\n", p.batchDelay)
	}
	fmt.Fprintf(&s, "\n[[servers]]\nname = \"sim\"\nendpoint = %q\npublishing_interval = %q\nsampling_interval = %q\nqueue_size = %d\n\n",
		endpoint, p.publishing, p.sampling, queue)
	s.WriteString("[[lines]]\nname = \"load\"\n\n[[lines.stations]]\nname = \"counters\"\n")
	for i := range p.nodes {
		fmt.Fprintf(&s, "\n[[lines.stations.nodes]]\nname = \"n%d\"\nid = \"nsu=urn:factorybridge:load;s=load.%d\"\n", i, i)
	}
	path := filepath.Join(b.TempDir(), "bench.toml")
	if err := os.WriteFile(path, []byte(s.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// lastStatus returns a counter of the bridge's newest status log line.
func lastStatus(bridge *testenv.Bridge, key string) uint64 {
	e := bridge.Entries("status")
	if len(e) == 0 {
		return 0
	}
	return uint64(e[len(e)-1].Num(key))
}

// processCPU is the user+system CPU time of pid so far.
func processCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("read bridge CPU time: %v", err)
	}
	// Fields after the command name (which may hold spaces) start at ')'.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on Linux.
const clockTicks = 100

func procStatusKB(pid int, field string) int64 {
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, field) {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb
		}
	}
	return 0
}

func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int64(nil), xs...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}

func envString(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
