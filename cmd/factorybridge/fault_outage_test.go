package main

import (
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/publisher/mqtt"
)

// RSS tolerance of the outage test. Between the early and the late sample of
// the outage the bridge's anonymous memory (RssAnon: heap, stacks) may grow by
// rssSlack plus anonPerReading bytes per reading added to the backlog, and
// its whole resident set (VmRSS) by rssSlack plus rssPerReading bytes per
// reading: VmRSS also counts the pages of the mmapped bbolt file that bbolt
// touched, which grow with the file (13 B per counter reading on disk) but
// are clean page cache, not a leak. Holding the backlog in memory would cost
// a Reading struct (over 100 B) per reading, which breaks both bounds; at
// the full duration (~570,000 readings between the samples) anonymous growth
// of even 4 B per reading does.
const (
	rssSlack       = 4 << 20
	anonPerReading = 4
	rssPerReading  = 16
)

// TestFaultBrokerOutage: at 50 nodes × 200 values/s (10,000 readings/s)
// mosquitto stops for 10 s (60 s with FACTORYBRIDGE_FAULT_FULL=1) and starts
// again. Every value of every node arrives, per node in order; duplicates
// carry their first copy's seq and number at most one in-flight window; the
// backlog drains while the bridge keeps receiving new readings (at least 80%
// of the load rate in every second of outage and drain); the
// bridge's RSS does not grow with the backlog.
func TestFaultBrokerOutage(t *testing.T) { forProtocols(t, mqtt.Protocol5, faultBrokerOutage) }

func faultBrokerOutage(t *testing.T, proto string) {
	const nodes, rate = 50, 200
	outage := scaled(10*time.Second, 60*time.Second)
	r := startRig(t, proto, nodes, rate, func(c *testenv.LoadConfig) { c.MaxMessageBytes = 64 << 10 })
	r.waitFlowing(2*rate, 60*time.Second)
	steadyFrom := time.Now()
	r.waitFlowing(2*rate, 30*time.Second)
	steady := rateOf(r.statuses(steadyFrom, time.Now()), "received")

	r.broker.Stop()
	down := time.Now()
	rss, anon := r.holdOutage(outage)
	r.broker.Start()
	up := time.Now()
	restored := r.bridge.WaitLog(t, "mqtt connection restored", 60*time.Second)
	r.caughtUp(time.Second, 3*time.Minute)
	drained := time.Now()
	r.bridge.Mark()
	r.bridge.WaitLog(t, `"msg":"status"`, 10*time.Second) // one status line after the drain
	slowest := slowestRate(r.statuses(down, time.Now()), "received")

	lastSeq := r.stopBridge()
	a := r.checkDelivery(nil)
	t.Logf("steady load %.0f readings/s; outage %v; %s", steady, up.Sub(down).Round(time.Millisecond), restored)
	t.Logf("backlog drained %v after the broker came back; the bridge received ≥ %.0f readings/s in every second of the outage and the drain",
		drained.Sub(up).Round(time.Millisecond), slowest)
	t.Logf("delivery: %v; last seq %d", a, lastSeq)
	if a.Lost > 0 {
		t.Errorf("%d values lost", a.Lost)
	}
	if w := r.inflightWindow(); a.Dups > w {
		t.Errorf("%d duplicates, more than the in-flight window of %d readings", a.Dups, w)
	}
	if slowest < 0.8*nodes*rate {
		t.Errorf("during the outage or the drain the bridge received only %.0f readings/s, want ≥ 80%% of %d", slowest, nodes*rate)
	}
	r.checkDropped()
	r.checkRSS(down, up, rss, anon)
}

// rssSample is the bridge's memory at one moment of the outage.
type rssSample struct {
	at  time.Time
	rss int64
}

// holdOutage keeps the broker down for d, sampling the bridge's VmRSS and
// RssAnon every second.
func (r *rig) holdOutage(d time.Duration) (rss, anon []rssSample) {
	end := time.Now().Add(d)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for now := range tick.C {
		rss = append(rss, rssSample{now, r.bridge.RSS()})
		anon = append(anon, rssSample{now, r.bridge.RSSAnon()})
		if !now.Before(end) {
			return rss, anon
		}
	}
	return rss, anon
}

// checkRSS compares the median of the first three samples of the outage with
// the median of the last three against the limits above, with the backlog
// added in between taken from the status lines' buffer_depth.
func (r *rig) checkRSS(down, up time.Time, rss, anon []rssSample) {
	r.t.Helper()
	if len(rss) < 6 {
		r.t.Fatalf("only %d RSS samples", len(rss))
	}
	early, late := rss[:3], rss[len(rss)-3:]
	lines := r.statuses(down, up)
	depth := func(at time.Time) float64 { // buffer_depth of the status line nearest at
		best := lines[0]
		for _, l := range lines {
			if l.Time().Sub(at).Abs() < best.Time().Sub(at).Abs() {
				best = l
			}
		}
		return best.Num("buffer_depth")
	}
	backlog := depth(late[1].at) - depth(early[1].at)
	grew, anonGrew := growth(rss), growth(anon)
	limit, anonLimit := rssSlack+rssPerReading*int64(backlog), rssSlack+anonPerReading*int64(backlog)
	r.t.Logf("memory during the outage, backlog +%.0f readings: VmRSS %.1f → %.1f MiB (%+.1f, limit %+.1f); RssAnon %+.1f MiB (limit %+.1f)",
		backlog, mib(median3(early)), mib(median3(late)), mib(grew), mib(limit), mib(anonGrew), mib(anonLimit))
	if grew > limit || anonGrew > anonLimit {
		r.t.Errorf("memory grew with the backlog: VmRSS %+.1f MiB (limit %+.1f), RssAnon %+.1f MiB (limit %+.1f)",
			mib(grew), mib(limit), mib(anonGrew), mib(anonLimit))
	}
}

// growth is the median of the last three samples minus that of the first three.
func growth(s []rssSample) int64 { return median3(s[len(s)-3:]) - median3(s[:3]) }

func median3(s []rssSample) int64 {
	a, b, c := s[0].rss, s[1].rss, s[2].rss
	return max(min(a, b), min(max(a, b), c))
}

// slowestRate returns the least growth per second of a status counter
// between consecutive lines.
func slowestRate(lines []testenv.LogEntry, key string) float64 {
	slowest := -1.0
	for i := 1; i < len(lines); i++ {
		if r := rateOf(lines[i-1:i+1], key); slowest < 0 || r < slowest {
			slowest = r
		}
	}
	return slowest
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// checkDropped fails when any status line reports readings the buffer dropped.
func (r *rig) checkDropped() {
	r.t.Helper()
	for _, e := range r.bridge.Entries("status") {
		if e.Num("dropped") > 0 {
			r.t.Fatalf("the buffer dropped readings: %v", e)
		}
	}
}
