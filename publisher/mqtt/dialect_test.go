package mqtt

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"

	"factorybridge/publisher"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// TestDialectDecidesEndpointTopicsAndSession runs the Publisher with a
// Dialect: it connects where the dialect says, publishes on the dialect's
// topics as decorated per message, and gives each session a Conn that
// publishes outside the window.
func TestDialectDecidesEndpointTopicsAndSession(t *testing.T) {
	b := startBroker(t)
	u, _ := url.Parse(b.url())
	d := &fakeDialect{url: u, sessions: make(chan Conn, 1)}
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(6), 300))
	last := q.Append(want...)
	runPublisher(t, dialectOptions(t, d, q))
	q.WaitAcked(t, last, waitLong)
	select {
	case c := <-d.sessions:
		c.Publish("fake/control", 0, []byte("hello"))
	case <-time.After(waitLong):
		t.Fatal("no session")
	}
	b.rec.waitFor(t, "the control message", waitLong, func(r *recorder) bool {
		for _, m := range r.msgs {
			if m.topic == "fake/control" {
				return true
			}
		}
		return false
	})
	var msgs []*wire.Message
	for _, m := range b.rec.messages() {
		if m.topic == "fake/control" {
			continue
		}
		if m.err != nil || m.topic != "fake/"+m.msg.Readings[0].Line+"/"+strconv.FormatUint(m.msg.First, 10) {
			t.Fatalf("message on %s (%v)", m.topic, m.err)
		}
		msgs = append(msgs, m.msg)
	}
	pubtest.CheckDelivery(t, msgs, want, uint64(len(want)))
}

// TestDialectSessionErrorEndsTheSession: an error from the dialect's
// Session drops the connection, which is made again.
func TestDialectSessionErrorEndsTheSession(t *testing.T) {
	b := startBroker(t)
	u, _ := url.Parse(b.url())
	d := &fakeDialect{url: u, sessions: make(chan Conn, 1), fail: errors.New("control refused")}
	logger, logs := pubtest.CaptureLogger()
	opts := dialectOptions(t, d, pubtest.NewMemQueue())
	opts.Logger = logger
	p := runPublisher(t, opts)
	waitStats(t, p, "a reconnect", func(s publisher.Stats) bool { return s.Reconnects >= 1 })
	logs.WaitFor(t, waitLong, "control refused")
}

// dialectOptions are testOptions without the plain broker's settings.
func dialectOptions(t testing.TB, d Dialect, q *pubtest.MemQueue) Options {
	opts := testOptions(t, "", q)
	opts.Topic, opts.Dialect = "", d
	return opts
}

// fakeDialect is a Dialect for tests of the seam: a plain broker at url
// whose messages carry a suffix per message.
type fakeDialect struct {
	url      *url.URL
	sessions chan Conn
	fail     error // Session's error
}

func (d *fakeDialect) Endpoint() (*url.URL, string) { return d.url, "fake" }

func (d *fakeDialect) Topics() (readings, oee *wire.Topic) {
	return wire.NewTopic(nil, wire.TopicPart{Text: "fake/"}, wire.TopicPart{Field: wire.FieldLine}),
		wire.NewTopic(nil, wire.TopicPart{Text: "fake-oee/"}, wire.TopicPart{Field: wire.FieldLine})
}

func (d *fakeDialect) Load() error { return nil }

func (d *fakeDialect) Credentials(context.Context, time.Time) (Credentials, error) {
	return Credentials{}, nil
}

func (d *fakeDialect) MessageTopic(topic string, first uint64, size int) string {
	return topic + "/" + strconv.FormatUint(first, 10)
}

func (d *fakeDialect) Session(ctx context.Context, c Conn) error {
	select {
	case d.sessions <- c:
	default:
	}
	return d.fail
}
