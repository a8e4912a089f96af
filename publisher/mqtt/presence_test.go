package mqtt

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/publisher/internal/pubtest"
)

// TestPresence: through mosquitto, the status topic says online after a
// connect, offline by the last will when the connection is cut without a
// DISCONNECT, online again after the reconnect, and stopped when Run ends;
// a subscriber that comes later gets the latest, retained. AckLatency sees
// every acknowledged message.
func TestPresence(t *testing.T) {
	m := testenv.StartMosquitto(t)
	px := testenv.StartProxy(t, strings.TrimPrefix(m.URL, "tcp://"))
	rec := subscribe(t, m.URL, "fb/bridge-1/status")
	q := pubtest.NewMemQueue()
	opts := testOptions(t, "tcp://"+px.Addr, q)
	opts.Presence = &Presence{Topic: "fb/bridge-1/status",
		Online: []byte("online"), Offline: []byte("offline"), Stopped: []byte("stopped")}
	var acks atomic.Int64
	opts.AckLatency = func(d time.Duration) {
		if d >= 0 {
			acks.Add(1)
		}
	}
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() { runErr = p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	waitPresence(t, rec, "online")
	q.WaitAcked(t, q.Append(pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(3), 30))...), waitLong)
	if acks.Load() == 0 {
		t.Error("AckLatency was not called for acknowledged messages")
	}
	px.Cut()
	waitPresence(t, rec, "online", "offline")
	waitPresence(t, rec, "online", "offline", "online")
	cancel()
	if <-done; runErr != nil {
		t.Fatalf("Run = %v", runErr)
	}
	waitPresence(t, rec, "online", "offline", "online", "stopped")
	late := subscribe(t, m.URL, "fb/bridge-1/status")
	late.waitFor(t, "the retained presence", waitLong, func(r *recorder) bool {
		return len(r.msgs) == 1 && r.msgs[0].retain && string(r.msgs[0].payload) == "stopped"
	})
}

// waitPresence waits until the presence payloads received are want.
func waitPresence(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	rec.waitFor(t, "presence "+strings.Join(want, ", "), waitLong, func(r *recorder) bool {
		if len(r.msgs) != len(want) {
			return false
		}
		for i, m := range r.msgs {
			if !bytes.Equal(m.payload, []byte(want[i])) {
				return false
			}
		}
		return true
	})
}

func TestPresenceRefusedWithDialect(t *testing.T) {
	opts := Options{BridgeID: "b", Queue: pubtest.NewMemQueue(), Dialect: &fakeDialect{},
		Presence: &Presence{Topic: "t"}}
	if _, err := New(opts); err == nil || !strings.Contains(err.Error(), "Presence") {
		t.Fatalf("New with a Dialect and Presence = %v, want a refusal", err)
	}
}
