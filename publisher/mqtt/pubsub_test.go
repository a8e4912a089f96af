package mqtt

import (
	"testing"

	"factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/pubsubjson"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

// TestPubSubJSONAgainstMosquitto publishes in pubsub-json through a real
// mosquitto: every station's metadata arrives before its data, and the
// separately written decoder gets every reading back exactly once.
func TestPubSubJSONAgainstMosquitto(t *testing.T) {
	m := testenv.StartMosquitto(t)
	rec := subscribe(t, m.URL, "factorybridge/bridge-1/#")
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(30), 20_000))
	last := q.Append(want...)
	opts := testOptions(t, m.URL, q)
	opts.Encoding = wire.EncodingPubSubJSON
	runPublisher(t, opts)
	q.WaitAcked(t, last, waitLong)

	var got []factorybridge.Reading
	testenv.Wait(t, waitLong, "every reading at the subscriber", func() bool {
		got = decodePubSub(t, rec, opts.MaxMessageBytes)
		return len(got) >= len(want)
	})
	if len(got) != len(want) {
		t.Fatalf("%d readings arrived, want %d", len(got), len(want))
	}
	for _, r := range got {
		if a, b := pubtest.FlatJSON(&r), pubtest.FlatJSON(&want[r.Seq-1]); a != b {
			t.Fatalf("round trip\n got %s\nwant %s", a, b)
		}
	}
}

// decodePubSub decodes what rec received so far, in order.
func decodePubSub(t *testing.T, rec *recorder, max int) []factorybridge.Reading {
	t.Helper()
	dec := pubsubjson.NewDecoder()
	var out []factorybridge.Reading
	for _, msg := range rec.messages() {
		if len(msg.payload) > max {
			t.Fatalf("message of %d bytes", len(msg.payload))
		}
		rs, _, err := dec.Decode(msg.payload)
		if err != nil {
			t.Fatalf("%v: %s", err, pubtest.Truncate(msg.payload))
		}
		out = append(out, rs...)
	}
	return out
}
