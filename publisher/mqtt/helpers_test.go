package mqtt

import (
	"testing"
	"time"

	"factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/publisher"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

const waitLong = 20 * time.Second

// testOptions are Options for broker url with small messages, so tests
// exercise packing across many messages, fast retries and the test's log.
func testOptions(t testing.TB, url string, q factorybridge.Queue) Options {
	qos := 1
	return Options{
		BridgeID: "bridge-1", Queue: q, Logger: pubtest.Logger(t),
		Broker:          url,
		Topic:           DefaultTopic,
		QoS:             &qos,
		MaxMessageBytes: 4096,
		MaxBatchDelay:   10 * time.Millisecond,
		MaxInflight:     8,
		Encoding:        wire.EncodingCompact,
		KeepAlive:       30 * time.Second,
		ConnectTimeout:  2 * time.Second,
		MinBackoff:      20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	}
}

// runPublisher starts Run and stops it when the test ends, checking that it
// returns nil promptly.
func runPublisher(t testing.TB, opts Options) *Publisher {
	t.Helper()
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	pubtest.Run(t, p)
	return p
}

// waitStats waits until cond holds for p's stats.
func waitStats(t testing.TB, p *Publisher, what string, cond func(publisher.Stats) bool) {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("stats %+v", p.Stats())
		}
	}()
	testenv.Wait(t, waitLong, what, func() bool { return cond(p.Stats()) })
}
