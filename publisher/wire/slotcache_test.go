package wire

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	fb "factorybridge"
)

// TestSlotCacheFollowsTheMaps: whatever the order of topics, starts,
// finishes and splits, SlotOf and Builder answer what the packer's maps
// say.
func TestSlotCacheFollowsTheMaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	pk := NewPacker("b", EncodingCompact, 64<<10)
	topics := []string{"a", "b", "c"}
	for i := range 20_000 {
		topic := topics[rng.IntN(len(topics))]
		if rng.IntN(4) > 0 { // runs of one topic, as publish responses bring them
			topic = topics[0]
		}
		r := fb.Reading{Seq: uint64(i + 1), Name: fmt.Sprintf("l/s/n%d", rng.IntN(500)), NodeID: "x", Server: "plc",
			Line: "l", Station: "s", Value: fb.IntValue(fb.TypeInt32, 1)}
		slot := pk.SlotOf(topic, &r)
		if k := pk.shards[topic]; pk.last.shards != k || k > 1 && slot.shard >= k || k <= 1 && slot.shard != 0 {
			t.Fatalf("step %d: shard %d of topic %s, %d shards taken for %d", i, slot.shard, topic, pk.last.shards, k)
		}
		b := pk.Builder(slot)
		if want := pk.bySlot[slot]; b != want {
			t.Fatalf("step %d: Builder(%+v) = %p, want %p", i, slot, b, want)
		}
		if b == nil {
			b = pk.Start(slot, time.Now())
		}
		if !pk.Add(b, &r) || rng.IntN(50) == 0 {
			pk.Finish(b, nil)
		}
		if rng.IntN(500) == 0 && pk.shards[topic] < maxShards {
			for _, tb := range pk.TopicBuilders(topic) {
				pk.Release(tb)
			}
			pk.Split(topic)
		}
	}
}
