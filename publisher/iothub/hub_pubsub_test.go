package iothub

import (
	"sync"
	"testing"
	"time"

	"factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/hubsim"
	"factorybridge/internal/testenv/pubsubjson"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// TestHubPubSubJSON publishes in pubsub-json to the stand-in, which drops
// the connection midway: every message is routable JSON ($.ct, $.ce),
// metadata has its own $.mid and is sent again on the new connection, and
// the separately written decoder gets every reading back (duplicates only
// of what was in flight at the drop, with their seqs).
func TestHubPubSubJSON(t *testing.T) {
	var mu sync.Mutex
	var got []factorybridge.Reading
	var errs []string
	dec := pubsubjson.NewDecoder()
	mids := map[string]bool{}
	h := hubsim.Start(t, hubsim.Options{OnMessage: func(m hubsim.Message) {
		mu.Lock()
		defer mu.Unlock()
		if m.Properties["type"] == "status" {
			return
		}
		if m.Properties["$.ct"] != "application/json" || m.Properties["$.ce"] != "utf-8" {
			errs = append(errs, "properties "+m.Topic)
		}
		mids[m.Properties["$.mid"]] = true
		rs, _, err := dec.Decode(m.Payload)
		if err != nil {
			errs = append(errs, err.Error())
		}
		got = append(got, rs...)
	}})
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(12), 30000))
	last := q.Append(want...)
	opts := deviceOptions(t, h, "pubsub", q)
	opts.MQTT.Encoding, opts.MQTT.MaxMessageBytes = wire.EncodingPubSubJSON, 8192
	p := runPublisher(t, opts)
	testenv.Wait(t, 30*time.Second, "a third acknowledged", func() bool { return q.AckCount() > 0 && p.Stats().AckedSeq > last/3 })
	h.Disconnect("pubsub")
	q.WaitAcked(t, last, 60*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Fatalf("%d errors, first %s", len(errs), errs[0])
	}
	seqs := map[uint64]bool{}
	for _, r := range got {
		seqs[r.Seq] = true
		if a, b := pubtest.FlatJSON(&r), pubtest.FlatJSON(&want[r.Seq-1]); a != b {
			t.Fatalf("round trip\n got %s\nwant %s", a, b)
		}
	}
	if len(seqs) != len(want) || p.Stats().Reconnects != 1 {
		t.Errorf("%d distinct readings of %d, %d reconnects", len(seqs), len(want), p.Stats().Reconnects)
	}
	if len(mids) < 3 {
		t.Errorf("%d message ids", len(mids))
	}
}
