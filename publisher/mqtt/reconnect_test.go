package mqtt

import (
	"strings"
	"testing"
	"time"

	"factorybridge/publisher"
	"factorybridge/publisher/internal/pubtest"
)

func TestReconnectsAfterBrokerRestart(t *testing.T) {
	b := startBroker(t)
	px := startProxy(t, b.addr)
	q := pubtest.NewMemQueue()
	nodes := pubtest.Nodes(8)
	want := pubtest.WithSeqs(pubtest.Readings(nodes, 6000))
	logger, logs := pubtest.CaptureLogger()
	opts := testOptions(t, px.url(), q)
	opts.Logger = logger
	p := runPublisher(t, opts)

	// A first part is published and acknowledged.
	q.WaitAcked(t, q.Append(want[:1000]...), waitLong)
	// The next part reaches the broker, but its PUBACKs are lost with it.
	px.setMode(ackHold)
	inflightFrom := q.Append(want[1000:1200]...)
	b.rec.waitReadings(t, 1200, waitLong)
	ackedAtStop := p.Stats().AckedSeq
	b.stop()
	waitStats(t, p, "disconnect", func(s publisher.Stats) bool { return !s.Connected })
	px.setMode(ackPass)
	// A backlog builds up while the broker is away, then drains in order.
	last := q.Append(want[1200:]...)
	b.start()
	q.WaitAcked(t, last, waitLong)

	if ackedAtStop >= inflightFrom {
		t.Fatalf("acked through %d while PUBACKs were withheld", ackedAtStop)
	}
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, ackedAtStop)
	if st := p.Stats(); st.Reconnects < 1 || !st.Connected {
		t.Errorf("stats %+v", st)
	}
	q.Check(t)
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
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(4), 400))
	last := q.Append(want...)
	opts := testOptions(t, px.url(), q)
	opts.AckTimeout = 200 * time.Millisecond
	p := runPublisher(t, opts)

	waitStats(t, p, "a reconnect after the PUBACK timeout", func(s publisher.Stats) bool { return s.Reconnects >= 1 })
	if n := q.AckCount(); n != 0 {
		t.Fatalf("queue acknowledged %d times while PUBACKs were swallowed", n)
	}
	px.setMode(ackPass)
	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, 0)
}

func TestReconnectsAfterConnectionDrop(t *testing.T) {
	b := startBroker(t)
	px := startProxy(t, b.addr)
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(4), 2000))
	p := runPublisher(t, testOptions(t, px.url(), q))

	q.WaitAcked(t, q.Append(want[:500]...), waitLong)
	px.dropConnections()
	last := q.Append(want[500:]...)
	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, 500)
	waitStats(t, p, "reconnected", func(s publisher.Stats) bool { return s.Connected && s.Reconnects >= 1 })
}

func TestConnectsWhenBrokerStartsLate(t *testing.T) {
	b := startBroker(t)
	b.stop()
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(3), 100))
	last := q.Append(want...)
	logger, logs := pubtest.CaptureLogger()
	opts := testOptions(t, b.url(), q)
	opts.Logger = logger
	p := runPublisher(t, opts)

	logs.WaitFor(t, waitLong, "connect failed")
	b.start()
	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, 0)
	checkOutageLogged(t, logs.String())
	if st := p.Stats(); st.Reconnects != 0 {
		t.Errorf("first connection counted as a reconnect: %+v", st)
	}
}
