package publisher

import (
	"strings"
	"testing"
	"time"
)

// waitStats waits until cond holds for p's stats.
func waitStats(t testing.TB, p *Publisher, what string, cond func(Stats) bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitLong)
	for !cond(p.Stats()) {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; stats %+v", what, p.Stats())
		}
	}
}

func TestReconnectsAfterBrokerRestart(t *testing.T) {
	b := startBroker(t)
	px := startProxy(t, b.addr)
	q := newMemQueue()
	nodes := testNodes(8)
	want := withSeqs(testReadings(nodes, 6000))
	logger, logs := captureLogger()
	opts := testOptions(t, q)
	opts.Logger = logger
	p := runPublisher(t, testConfig(px.url()), opts)

	// A first part is published and acknowledged.
	q.waitAcked(t, q.append(want[:1000]...), waitLong)
	// The next part reaches the broker, but its PUBACKs are lost with it.
	px.setMode(ackHold)
	inflightFrom := q.append(want[1000:1200]...)
	b.rec.waitReadings(t, 1200, waitLong)
	ackedAtStop := p.Stats().AckedSeq
	b.stop()
	waitStats(t, p, "disconnect", func(s Stats) bool { return !s.Connected })
	px.setMode(ackPass)
	// A backlog builds up while the broker is away, then drains in order.
	last := q.append(want[1200:]...)
	b.start()
	q.waitAcked(t, last, waitLong)

	if ackedAtStop >= inflightFrom {
		t.Fatalf("acked through %d while PUBACKs were withheld", ackedAtStop)
	}
	checkDelivery(t, b.rec.decoded(t), want, ackedAtStop)
	if st := p.Stats(); st.Reconnects < 1 || !st.Connected {
		t.Errorf("stats %+v", st)
	}
	q.check(t)
	checkOutageLogged(t, logs.String())
}

// checkOutageLogged checks one ERROR when the connection went down and one
// INFO with duration and attempts when it came back, however many attempts.
func checkOutageLogged(t testing.TB, logs string) {
	t.Helper()
	if n := strings.Count(logs, "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines; want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "mqtt connection restored") || !strings.Contains(logs, "outage=") ||
		!strings.Contains(logs, "attempts=") {
		t.Errorf("no recovery line with outage and attempts:\n%s", logs)
	}
}

func TestMissingPubackTimesOutAndResends(t *testing.T) {
	b := startBroker(t)
	px := startProxy(t, b.addr)
	px.setMode(ackSwallow)
	q := newMemQueue()
	want := withSeqs(testReadings(testNodes(4), 400))
	last := q.append(want...)
	opts := testOptions(t, q)
	opts.AckTimeout = 200 * time.Millisecond
	p := runPublisher(t, testConfig(px.url()), opts)

	waitStats(t, p, "a reconnect after the PUBACK timeout", func(s Stats) bool { return s.Reconnects >= 1 })
	if n := q.ackCount(); n != 0 {
		t.Fatalf("queue acknowledged %d times while PUBACKs were swallowed", n)
	}
	px.setMode(ackPass)
	q.waitAcked(t, last, waitLong)
	checkDelivery(t, b.rec.decoded(t), want, 0)
}

func TestReconnectsAfterConnectionDrop(t *testing.T) {
	b := startBroker(t)
	px := startProxy(t, b.addr)
	q := newMemQueue()
	want := withSeqs(testReadings(testNodes(4), 2000))
	p := runPublisher(t, testConfig(px.url()), testOptions(t, q))

	q.waitAcked(t, q.append(want[:500]...), waitLong)
	px.dropConnections()
	last := q.append(want[500:]...)
	q.waitAcked(t, last, waitLong)
	checkDelivery(t, b.rec.decoded(t), want, 500)
	waitStats(t, p, "reconnected", func(s Stats) bool { return s.Connected && s.Reconnects >= 1 })
}

func TestConnectsWhenBrokerStartsLate(t *testing.T) {
	b := startBroker(t)
	b.stop()
	q := newMemQueue()
	want := withSeqs(testReadings(testNodes(3), 100))
	last := q.append(want...)
	logger, logs := captureLogger()
	opts := testOptions(t, q)
	opts.Logger = logger
	p := runPublisher(t, testConfig(b.url()), opts)

	waitStats(t, p, "a few failed attempts", func(Stats) bool { return strings.Contains(logs.String(), "connect failed") })
	b.start()
	q.waitAcked(t, last, waitLong)
	checkDelivery(t, b.rec.decoded(t), want, 0)
	checkOutageLogged(t, logs.String())
	if st := p.Stats(); st.Reconnects != 0 {
		t.Errorf("first connection counted as a reconnect: %+v", st)
	}
}
