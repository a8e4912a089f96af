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

	mqtt "github.com/eclipse/paho.mqtt.golang"

	fb "factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/publisher"
)

// loadConfig writes a config that subscribes to the simulator's first
// nodes load nodes with sampling interval 0, so every change is a reading.
func writeLoadConfig(t *testing.T, endpoint, broker string, nodes int) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `[bridge]
id = "e2e"
data_dir = %q

[buffer]
commit_interval = "20ms"

[mqtt]
broker = %q
topic = "fb/{bridge}/{line}/{station}"
max_batch_delay = "20ms"

[[servers]]
name = "sim"
endpoint = %q
publishing_interval = "50ms"
sampling_interval = "0s"
queue_size = 2000

[[lines]]
name = "load"

[[lines.stations]]
name = "counters"
`, t.TempDir(), broker, endpoint)
	for i := range nodes {
		fmt.Fprintf(&b, "\n[[lines.stations.nodes]]\nname = \"n%d\"\nid = \"nsu=urn:factorybridge:load;s=load.%d\"\n", i, i)
	}
	path := filepath.Join(t.TempDir(), "bridge.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// consumer records what arrives at the broker, per node, in arrival order.
type consumer struct {
	mu     sync.Mutex
	values map[string][]uint64 // node name → counter values
	seqs   map[string][]uint64 // node name → reading sequence numbers
	errs   []string
}

func subscribe(t *testing.T, broker, topic string) *consumer {
	t.Helper()
	c := &consumer{values: map[string][]uint64{}, seqs: map[string][]uint64{}}
	opts := mqtt.NewClientOptions().AddBroker(broker).SetClientID("e2e-consumer").SetCleanSession(true)
	cl := mqtt.NewClient(opts)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("consumer connect: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	tok := cl.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) { c.record(m.Payload()) })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("consumer subscribe: %v", tok.Error())
	}
	return c
}

func (c *consumer) record(payload []byte) {
	msg, err := publisher.DecodeMessage(payload)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.errs = append(c.errs, err.Error())
		return
	}
	for _, r := range msg.Readings {
		if r.Value.Type != fb.TypeUInt64 || !r.IsGood() {
			c.errs = append(c.errs, fmt.Sprintf("%s: value %+v status %#x", r.Name, r.Value, r.Status))
			continue
		}
		c.values[r.Name] = append(c.values[r.Name], r.Value.Uint())
		c.seqs[r.Name] = append(c.seqs[r.Name], r.Seq)
	}
}

// minCount returns the fewest values any of names has received.
func (c *consumer) minCount(names []string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	least := -1
	for _, n := range names {
		if k := len(c.values[n]); least < 0 || k < least {
			least = k
		}
	}
	return least
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startBridge runs "factorybridge run" in-process until the test stops it.
func startBridge(t *testing.T, cfgPath string) (stop func() error, logs *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &bytes.Buffer{}
	lw := &lockedWriter{w: logs}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"run", "-config", cfgPath, "-status-interval", "1s"}, lw, lw) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop, logs
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestEveryReadingReachesTheBroker runs the whole path against the open62541
// simulator and mosquitto: every counter value of every load node arrives,
// per node in order, with no gap and no duplicate.
func TestEveryReadingReachesTheBroker(t *testing.T) {
	const nodes, rate, want = 20, 200, 600
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: rate})
	broker := testenv.StartMosquitto(t)
	cons := subscribe(t, broker.URL, "fb/e2e/#")
	stop, logs := startBridge(t, writeLoadConfig(t, sim.Endpoint, broker.URL, nodes))
	names := make([]string, nodes)
	for i := range names {
		names[i] = fmt.Sprintf("load/counters/n%d", i)
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("%d values of each of %d nodes", want, nodes), func() bool {
		return cons.minCount(names) >= want
	})
	if err := stop(); err != nil {
		t.Fatalf("bridge exited with %v\n%s", err, logs)
	}
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if len(cons.errs) > 0 {
		t.Fatalf("bad messages or readings: %v", cons.errs[:min(5, len(cons.errs))])
	}
	total := 0
	for _, n := range names {
		vals, seqs := cons.values[n], cons.seqs[n]
		total += len(vals)
		for i := 1; i < len(vals); i++ {
			if vals[i] != vals[i-1]+1 || seqs[i] <= seqs[i-1] {
				t.Fatalf("%s: value %d (seq %d) followed by %d (seq %d): want +1 with a rising sequence",
					n, vals[i-1], seqs[i-1], vals[i], seqs[i])
			}
		}
	}
	t.Logf("%d readings of %d nodes arrived complete and in order", total, nodes)
}
