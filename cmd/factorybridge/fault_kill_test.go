package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
	"factorybridge/publisher/mqtt"
)

// maxUncommitted bounds, per node and kill, the time between a node's last
// value that reached the broker and the SIGKILL: values sampled in it were
// lost with the process. They are what the server had not yet sent (at most
// one publishing interval, 50 ms) and what the bridge had received but not
// committed (one commit interval, 20 ms, plus the commit's fsync); the rest
// is margin for a loaded 2-core machine.
const maxUncommitted = 250 * time.Millisecond

// TestFaultBridgeKill: at 50 nodes × 200 values/s the bridge is killed with
// SIGKILL 4 times (10 with FACTORYBRIDGE_FAULT_FULL=1) at random moments and
// restarted on the same buffer file each time. Nothing committed is lost
// (every seq from 1 to the last arrives, stopBridge): what a kill loses was
// never committed, and since the buffer assigns seqs in the commit
// transaction it took no seq, so a kill leaves a gap in a counter but none
// in the committed sequence; each node's values are complete
// except one gap per kill, in which the values sampled before the kill span
// at most maxUncommitted; duplicates carry their seq and number at most one
// in-flight window plus one commit interval of readings per kill.
func TestFaultBridgeKill(t *testing.T) { forProtocols(t, mqtt.Protocol311, faultBridgeKill) }

func faultBridgeKill(t *testing.T, proto string) {
	const nodes, rate = 50, 200
	kills := scaled(4, 10)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	r := startRig(t, proto, nodes, rate, func(c *testenv.LoadConfig) { c.MaxMessageBytes = 64 << 10 })
	r.waitFlowing(rate, 60*time.Second)
	var killedAt []time.Time
	for range kills {
		r.waitFlowing(rate/2+rng.IntN(2*rate), 60*time.Second) // 0.5 to 2.5 s of load
		killedAt = append(killedAt, time.Now())
		r.bridge.Kill()
		r.bridge.Start()
		r.bridge.WaitLog(t, "monitored items", 30*time.Second)
	}
	r.waitFlowing(rate, 60*time.Second)
	lastSeq := r.stopBridge()
	a := r.checkDelivery(nil)
	t.Logf("delivery: %v; last seq %d", a, lastSeq)
	r.checkKillGaps(a, killedAt)
	window := r.inflightWindow() + nodes*rate*int(r.commitInterval()/time.Millisecond)/1000
	if a.Dups > kills*window {
		t.Errorf("%d duplicates, more than %d kills × (in-flight window + one commit interval) = %d",
			a.Dups, kills, kills*window)
	}
	r.checkDropped()
}

func (r *rig) commitInterval() time.Duration {
	if r.cfg.CommitInterval > 0 {
		return r.cfg.CommitInterval
	}
	return 20 * time.Millisecond // testenv.LoadConfig's default
}

// killGap is the worst loss of one kill over all nodes.
type killGap struct {
	nodes    int           // nodes with a gap at this kill
	lost     uint64        // most values lost by one node (the downtime included)
	window   time.Duration // longest time from a node's last delivered value to the kill
	uncommit int           // most values one node lost that were sampled before the kill
	downtime time.Duration // longest time from the kill to a node's first value after it
}

// checkKillGaps attributes every gap to the kill inside it and checks that
// values sampled before the kill span at most maxUncommitted.
func (r *rig) checkKillGaps(a consumer.Analysis, killedAt []time.Time) {
	r.t.Helper()
	per := make([]killGap, len(killedAt))
	for _, n := range a.Nodes {
		for _, g := range n.Gaps {
			k := killInside(g, killedAt)
			if k < 0 {
				r.t.Errorf("%s: %d values lost after %d (sampled %v) before %d (sampled %v) with no kill in between (kills at %v)",
					n.Name, g.Lost(), g.After.Value, time.UnixMilli(g.After.Server).Format(time.StampMilli),
					g.Before.Value, time.UnixMilli(g.Before.Server).Format(time.StampMilli), stamps(killedAt))
				continue
			}
			per[k].add(g, killedAt[k], r.rate)
		}
	}
	var worst killGap
	for i, p := range per {
		r.t.Logf("kill %d: %d nodes with a gap of at most %d values: at most %d sampled in the %v before the kill, the rest while the bridge was down (up to %v)",
			i+1, p.nodes, p.lost, p.uncommit, p.window, p.downtime)
		worst.window, worst.uncommit = max(worst.window, p.window), max(worst.uncommit, p.uncommit)
	}
	r.t.Logf("worst case over %d kills: %d values per node (%d readings over %d nodes) sampled up to %v before the kill were lost",
		len(killedAt), worst.uncommit, worst.uncommit*len(r.names), len(r.names), worst.window)
	if worst.window > maxUncommitted {
		r.t.Errorf("values sampled up to %v before a kill were lost; want at most %v", worst.window, maxUncommitted)
	}
}

// killInside returns the index of the kill between the gap's last value
// before and first value after, or -1.
func killInside(g consumer.Gap, killedAt []time.Time) int {
	for i, k := range killedAt {
		ms := k.UnixMilli()
		if g.After.Server <= ms && ms <= g.Before.Server {
			return i
		}
	}
	return -1
}

func (p *killGap) add(g consumer.Gap, kill time.Time, rate int) {
	window := time.Duration(kill.UnixMilli()-g.After.Server) * time.Millisecond
	before := min(int(g.Lost()), int(window.Milliseconds())*rate/1000)
	p.nodes++
	p.lost = max(p.lost, g.Lost())
	p.window = max(p.window, window)
	p.uncommit = max(p.uncommit, before)
	p.downtime = max(p.downtime, time.Duration(g.Before.Server-kill.UnixMilli())*time.Millisecond)
}

func stamps(ts []time.Time) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Format(time.StampMilli))
	}
	return out
}
