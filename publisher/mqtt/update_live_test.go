package mqtt

import (
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
	"factorybridge/publisher"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// Tests of Update against real mosquitto brokers, while the publisher is
// busy: a send-rate cap keeps a backlog in the queue when the update comes.

// busyOptions are testOptions whose rate cap keeps a few seconds of backlog.
func busyOptions(t testing.TB, url string, q *pubtest.MemQueue) Options {
	opts := testOptions(t, url, q)
	opts.MaxMessagesPerSecond = 150
	return opts
}

// TestUpdateTopicKeepsConnection: new topics, encoding, window, batching
// and no rate cap, applied mid-stream: every reading arrives once, the
// messages started before the update keep the old topic and those after
// it use the new one, and the broker saw one connection.
func TestUpdateTopicKeepsConnection(t *testing.T) {
	m := testenv.StartMosquitto(t)
	rec := subscribe(t, m.URL, "#")
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(30), 24_000))
	opts := busyOptions(t, m.URL, q)
	logger, logs := pubtest.CaptureLogger()
	opts.Logger = logger
	p := runPublisher(t, opts)
	q.Append(want[:20_000]...)
	waitStats(t, p, "the first readings acknowledged", func(s publisher.Stats) bool { return s.AckedSeq >= 2000 })

	opts.Topic, opts.Encoding, opts.MaxInflight = "plant/{line}/{station}", wire.EncodingFlat, 32
	opts.MaxMessagesPerSecond, opts.MaxBatchDelay = 0, 20*time.Millisecond
	if err := p.Update(opts); err != nil {
		t.Fatal(err)
	}
	logs.WaitFor(t, waitLong, "publisher settings updated")
	if acked := p.Stats().AckedSeq; acked >= 20_000 {
		t.Fatalf("the update came after the backlog was gone (acked %d)", acked)
	}
	last := q.Append(want[20_000:]...)
	q.WaitAcked(t, last, waitLong)
	rec.waitReadings(t, len(want), waitLong)

	pubtest.CheckDelivery(t, rec.decoded(t), want, 0) // none twice: nothing was read again
	oldMax, newMin := topicSwitch(t, rec, "factorybridge/bridge-1/", "plant/")
	if oldMax == 0 || newMin == 0 || oldMax >= newMin {
		t.Errorf("old topic up to seq %d, new topic from seq %d: want both, the old before the new", oldMax, newMin)
	}
	checkChangedLogged(t, logs, "topic", "encoding", "max_inflight", "max_messages_per_second", "max_batch_delay")
	if logs.Contains("reconnecting") {
		t.Errorf("reconnected for settings of messages:\n%s", logs)
	}
	checkOneConnection(t, p, m)
	q.Check(t)
	t.Logf("stats %+v\n%s", p.Stats(), logs)
}

// topicSwitch returns the highest seq sent on topics with prefix before
// and the lowest on those with prefix after, failing on other topics.
func topicSwitch(t testing.TB, rec *recorder, before, after string) (oldMax, newMin uint64) {
	t.Helper()
	for _, msg := range rec.messages() {
		for _, r := range msg.msg.Readings {
			switch {
			case strings.HasPrefix(msg.topic, before):
				oldMax = max(oldMax, r.Seq)
			case strings.HasPrefix(msg.topic, after):
				if newMin == 0 || r.Seq < newMin {
					newMin = r.Seq
				}
			default:
				t.Fatalf("message on %s", msg.topic)
			}
		}
	}
	return oldMax, newMin
}

// checkChangedLogged checks the one INFO line naming the changed settings.
func checkChangedLogged(t testing.TB, logs *testenv.Logs, names ...string) {
	t.Helper()
	if n := logs.Count("publisher settings updated"); n != 1 {
		t.Errorf("%d lines say the settings were updated; want 1:\n%s", n, logs)
	}
	for _, name := range names {
		if !logs.Contains(name) {
			t.Errorf("the update's log line does not name %s:\n%s", name, logs)
		}
	}
}

// checkOneConnection checks, on the publisher's side and on mosquitto's,
// that the bridge connected once.
func checkOneConnection(t testing.TB, p *Publisher, m *testenv.Mosquitto) {
	t.Helper()
	if st := p.Stats(); st.Connections != 1 || st.Reconnects != 0 || !st.Connected {
		t.Errorf("stats %+v; want one connection, up", st)
	}
	if n := connectionsSeen(t, m, "factorybridge-bridge-1"); n != 1 {
		t.Errorf("mosquitto saw %d connections of the bridge; want 1", n)
	}
}

// TestUpdateBrokerReconnects: a new broker address, mid-stream: the
// publisher lets the old broker acknowledge what is in flight, disconnects
// and connects to the new one; the seqs that arrived at the two brokers
// together are dense from 1 to the last, none twice, the old broker's all
// before the new one's.
func TestUpdateBrokerReconnects(t *testing.T) {
	m1, m2 := testenv.StartMosquitto(t), testenv.StartMosquitto(t)
	rec1, rec2 := subscribe(t, m1.URL, "#"), subscribe(t, m2.URL, "#")
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(30), 24_000))
	opts := busyOptions(t, m1.URL, q)
	logger, logs := pubtest.CaptureLogger()
	opts.Logger = logger
	p := runPublisher(t, opts)
	q.Append(want[:20_000]...)
	waitStats(t, p, "the first readings acknowledged", func(s publisher.Stats) bool { return s.AckedSeq >= 2000 })

	opts.Broker = m2.URL
	if err := p.Update(opts); err != nil {
		t.Fatal(err)
	}
	logs.WaitFor(t, waitLong, "reconnecting: broker/identity changed")
	last := q.Append(want[20_000:]...)
	q.WaitAcked(t, last, waitLong)
	rec2.waitReadings(t, len(want)-rec1.readingCount(), waitLong)

	seqs1, seqs2 := seqsOf(rec1), seqsOf(rec2)
	if err := consumer.CheckDense(last, 0, seqs1, seqs2); err != nil {
		t.Error(err)
	}
	pubtest.CheckDelivery(t, append(rec1.decoded(t), rec2.decoded(t)...), want, 0)
	if len(seqs1) == 0 || len(seqs2) == 0 || slicesMax(seqs1) >= slicesMin(seqs2) {
		t.Errorf("old broker up to seq %d, new from %d: want both, the old before the new", slicesMax(seqs1), slicesMin(seqs2))
	}
	checkChangedLogged(t, logs, "broker")
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a planned reconnect logged an error:\n%s", logs)
	}
	if st := p.Stats(); st.Connections != 2 || st.Reconnects != 0 || !st.Connected {
		t.Errorf("stats %+v; want two connections, no reconnect after a failure", st)
	}
	for i, m := range []*testenv.Mosquitto{m1, m2} {
		if n := connectionsSeen(t, m, "factorybridge-bridge-1"); n != 1 {
			t.Errorf("broker %d saw %d connections of the bridge; want 1", i+1, n)
		}
	}
	q.Check(t)
	t.Logf("stats %+v\n%s", p.Stats(), logs)
}

// readingCount returns the readings received so far.
func (r *recorder) readingCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readings
}

// seqsOf returns the seqs of the readings rec received.
func seqsOf(rec *recorder) []uint64 {
	var seqs []uint64
	for _, msg := range rec.messages() {
		for _, r := range msg.msg.Readings {
			seqs = append(seqs, r.Seq)
		}
	}
	return seqs
}

func slicesMax(s []uint64) uint64 {
	var m uint64
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

func slicesMin(s []uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	m := s[0]
	for _, v := range s {
		m = min(m, v)
	}
	return m
}

// TestUpdatePresence: an update with a new config digest in the birth
// publishes it again, retained, on the same connection; the last will set
// at connect keeps the Offline message it was made with, and the next
// connection's will has the new one.
func TestUpdatePresence(t *testing.T) {
	m := testenv.StartMosquitto(t)
	px := testenv.StartProxy(t, strings.TrimPrefix(m.URL, "tcp://"))
	rec := subscribe(t, m.URL, "fb/bridge-1/status")
	q := pubtest.NewMemQueue()
	opts := testOptions(t, "tcp://"+px.Addr, q)
	opts.Presence = &Presence{Topic: "fb/bridge-1/status",
		Online: []byte("online 1"), Offline: []byte("offline 1"), Stopped: []byte("stopped 1")}
	p := runPublisher(t, opts)
	waitPresence(t, rec, "online 1")
	q.WaitAcked(t, q.Append(pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(3), 30))...), waitLong)

	opts.Presence = &Presence{Topic: "fb/bridge-1/status",
		Online: []byte("online 2"), Offline: []byte("offline 2"), Stopped: []byte("stopped 2")}
	if err := p.Update(opts); err != nil {
		t.Fatal(err)
	}
	waitPresence(t, rec, "online 1", "online 2")
	late := subscribeAs(t, m.URL, "fb/bridge-1/status", "late-consumer")
	late.waitFor(t, "the retained birth", waitLong, func(r *recorder) bool {
		return len(r.msgs) == 1 && r.msgs[0].retain && string(r.msgs[0].payload) == "online 2"
	})
	if st := p.Stats(); st.Connections != 1 {
		t.Fatalf("the birth was published again by reconnecting: %+v", st)
	}
	px.Cut()
	waitPresence(t, rec, "online 1", "online 2", "offline 1", "online 2")
	if st := p.Stats(); st.Connections != 2 {
		t.Errorf("stats %+v; want the connection cut and made again", st)
	}
}
