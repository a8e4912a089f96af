package main

import (
	"cmp"
	"fmt"
	"testing"
	"time"

	"factorybridge/config"
	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
	"factorybridge/publisher/mqtt"
)

// scaled returns full under FACTORYBRIDGE_FAULT_FULL=1 (testenv.FaultFull)
// and ci otherwise: the fault tests run scaled down by default (CI);
// docs/faults.md has both durations.
func scaled[T any](ci, full T) T {
	if testenv.FaultFull() {
		return full
	}
	return ci
}

// minSampleBytes is the least a compact sample of a counter costs in a
// message ("[s,ttttttttttttt,ttttttttttttt,v]," with one-digit seq and
// value), so a message holds at most max_message_bytes/minSampleBytes
// readings.
const minSampleBytes = 34

// rig is a simulator with load counters, a persistent mosquitto, a consumer
// with a persistent session on fb/<id>/#, and a bridge subprocess between
// them.
type rig struct {
	t      *testing.T
	sim    *testenv.Simulator
	broker *testenv.Mosquitto
	cons   *consumer.Consumer
	bridge *testenv.Bridge
	cfg    testenv.LoadConfig
	names  []string // the load nodes' reading names
	rate   int      // values per second per node
}

// forProtocols runs a fault test over MQTT 5 and MQTT 3.1.1 under
// FACTORYBRIDGE_FAULT_FULL=1, and over ci alone otherwise, to keep CI's
// time: each fault test names the protocol it represents, and together
// they cover both.
func forProtocols(t *testing.T, ci string, run func(t *testing.T, proto string)) {
	protos := []string{ci}
	if testenv.FaultFull() {
		protos = []string{mqtt.Protocol5, mqtt.Protocol311}
	}
	for _, p := range protos {
		t.Run("mqtt"+p, func(t *testing.T) { run(t, p) })
	}
}

// startRig starts everything with nodes load counters at rate values/s
// each, the bridge publishing over proto (mqtt.protocol); tune may adjust
// the config before it is written; args are more flags of "factorybridge
// run".
func startRig(t *testing.T, proto string, nodes, rate int, tune func(*testenv.LoadConfig), args ...string) *rig {
	t.Helper()
	return startRigWith(t, rigOptions{proto: proto, nodes: nodes, rate: rate, tune: tune}, args...)
}

// rigOptions configure startRigWith.
type rigOptions struct {
	proto       string
	nodes, rate int
	tune        func(*testenv.LoadConfig)
	// broker are more lines of mosquitto's configuration.
	broker []string
}

// startRigWith is startRig with more options.
func startRigWith(t *testing.T, o rigOptions, args ...string) *rig {
	t.Helper()
	nodes, rate := o.nodes, o.rate
	r := &rig{t: t, rate: rate}
	r.sim = testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: rate})
	r.broker = testenv.StartMosquittoWith(t, testenv.MosquittoOptions{Persistence: true, Extra: o.broker})
	r.cons = consumer.Start(t, r.broker.URL, consumer.Options{Topic: "fb/e2e/#", Persistent: true})
	r.cfg = testenv.LoadConfig{Endpoint: r.sim.Endpoint, Broker: r.broker.URL, Nodes: nodes, Protocol: o.proto}
	if o.tune != nil {
		o.tune(&r.cfg)
	}
	for i := range nodes {
		r.names = append(r.names, testenv.LoadNodeName(i))
	}
	r.bridge = testenv.StartBridge(t, testenv.WriteLoadConfig(t, r.cfg), args...)
	return r
}

// waitFlowing waits until every load node delivered at least k values more
// than when it was called.
func (r *rig) waitFlowing(k int, within time.Duration) {
	r.t.Helper()
	r.waitFlowingOf(r.names, k, within)
}

// waitFlowingOf waits until every one of names delivered at least k values
// more than when it was called.
func (r *rig) waitFlowingOf(names []string, k int, within time.Duration) {
	r.t.Helper()
	base := make([]int, len(names))
	for i, n := range names {
		base[i] = r.cons.Count(n)
	}
	testenv.Wait(r.t, within, fmt.Sprintf("%d new values of each of %d nodes", k, len(names)), func() bool {
		for i, n := range names {
			if r.cons.Count(n) < base[i]+k {
				return false
			}
		}
		return true
	})
}

// caughtUp waits until the consumer's newest value of every node was
// sampled less than lag ago: the backlog is delivered.
func (r *rig) caughtUp(lag, within time.Duration) {
	r.t.Helper()
	testenv.Wait(r.t, within, fmt.Sprintf("the newest value of every node younger than %v", lag), func() bool {
		for _, n := range r.names {
			s, ok := r.cons.Last(n)
			if !ok || time.Since(time.UnixMilli(s.Server)) > lag {
				return false
			}
		}
		return true
	})
}

// stopBridge stops the bridge gracefully, checks that every seq it ever
// committed arrived at the consumer (checkDense; the rig's tests expect
// nothing dropped or rejected, so none is excused) and returns the final seq.
// Readings a kill -9 lost were never committed: the buffer assigns seqs in
// the commit transaction, so they took no seq and leave no gap here.
func (r *rig) stopBridge() uint64 {
	r.t.Helper()
	seq := r.bridge.StopDrained(r.t)
	checkDense(r.t, seq, 0, r.cons.Seqs)
	if _, over, _, _ := r.cons.Totals(); over > 0 {
		r.t.Fatalf("consumer dropped %d samples beyond its cap; scale the test down", over)
	}
	return seq
}

// checkDelivery checks what the consumer got: no bad message, and returns
// the per-node analysis of the samples keep accepts, failing on a missing
// node, a reorder or a duplicate with another seq.
func (r *rig) checkDelivery(keep func(consumer.Sample) bool) consumer.Analysis {
	r.t.Helper()
	if n, errs := r.cons.Errors(); n > 0 {
		r.t.Fatalf("%d bad messages or readings: %v", n, errs)
	}
	a := r.cons.Analyze(r.names, keep)
	if a.Err != nil || len(a.Missing) > 0 {
		r.t.Fatalf("analysis: %v", a)
	}
	if a.Reorders > 0 || a.SeqMismatch > 0 {
		r.t.Errorf("order or duplicate seqs broken: %v", a)
	}
	return a
}

// inflightWindow is the most readings that can be sent and unacknowledged
// at one moment: max_inflight full messages.
func (r *rig) inflightWindow() int {
	inflight := cmp.Or(r.cfg.MaxInflight, config.DefaultMaxInflight)
	msgBytes := cmp.Or(r.cfg.MaxMessageBytes, config.DefaultMaxMessageBytes)
	return inflight * msgBytes / minSampleBytes
}

// statuses returns the status log lines logged within [from, to].
func (r *rig) statuses(from, to time.Time) []testenv.LogEntry {
	var out []testenv.LogEntry
	for _, e := range r.bridge.Entries("status") {
		if at := e.Time(); !at.Before(from) && !at.After(to) {
			out = append(out, e)
		}
	}
	return out
}

// rateOf returns the growth per second of a status counter between the first
// and last of lines.
func rateOf(lines []testenv.LogEntry, key string) float64 {
	if len(lines) < 2 {
		return 0
	}
	a, b := lines[0], lines[len(lines)-1]
	return (b.Num(key) - a.Num(key)) / b.Time().Sub(a.Time()).Seconds()
}

// errorLines returns the ERROR log lines logged within [from, to].
func (r *rig) errorLines(from, to time.Time) []testenv.LogEntry {
	var out []testenv.LogEntry
	for _, e := range r.bridge.Entries("") {
		if at := e.Time(); e.Level() == "ERROR" && !at.Before(from) && !at.After(to) {
			out = append(out, e)
		}
	}
	return out
}
