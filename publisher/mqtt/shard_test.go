package mqtt

import (
	"testing"
	"time"

	"factorybridge/publisher/internal/pubtest"
)

// TestManyNodesShareTopicCompactly: thousands of nodes on one topic, read
// time-major as an OPC UA publish response delivers them. Without sharding a
// message fills with one sample per node and every reading pays for its
// node's head; with it, messages hold fewer nodes with many samples each.
// Per-node order and completeness must hold across the shard changes.
func TestManyNodesShareTopicCompactly(t *testing.T) {
	const nodes, steps = 2000, 40
	b := startBroker(t)
	rec := b.rec
	q := pubtest.NewMemQueue()
	opts := testOptions(t, b.url(), q)
	opts.Topic = "t/{bridge}"
	opts.MaxMessageBytes = 64 << 10
	opts.MaxInflight = 64
	opts.MaxBatchDelay, opts.CycleGrace = time.Second, time.Second // messages fill by size
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(nodes), nodes*steps))
	last := q.Append(want...)
	runPublisher(t, opts)
	q.WaitAcked(t, last, waitLong)
	msgs := rec.decoded(t)
	pubtest.CheckDelivery(t, msgs, want, uint64(len(want)))
	// Shards double one step at a time; judge the messages after that.
	var payload, readings int
	for i, m := range rec.messages() {
		if i >= len(msgs)/2 {
			payload += len(m.payload)
			readings += msgs[i].Count
		}
	}
	perReading := float64(payload) / float64(readings)
	t.Logf("%d messages; the second half %.1f payload bytes per reading", len(msgs), perReading)
	if perReading > 45 {
		t.Errorf("%.1f bytes per reading: nodes are not grouped (a head per sample costs ~110)", perReading)
	}
}
