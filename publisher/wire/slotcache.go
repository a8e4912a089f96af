package wire

// slotCache remembers the shards of the topic packed last and its shards'
// builders. Readings of one topic come in long runs (a publish response is
// one server's, mostly one line's), and looking the topic up in two maps
// for every reading (shards in SlotOf, then bySlot in Builder) was a fifth
// of packing's CPU. The maps stay the truth: the cache learns a shard's
// builder from bySlot on first use and follows Start, Release and Split.
type slotCache struct {
	valid    bool
	topic    string
	shards   uint32
	known    uint64 // bit s: builders[s] is known; maxShards fit
	builders [maxShards]*Builder
}

// cached returns the cache, filled for topic.
func (p *Packer) cached(topic string) *slotCache {
	c := &p.last
	if !c.valid || c.topic != topic {
		*c = slotCache{valid: true, topic: topic, shards: p.shards[topic]}
	}
	return c
}

// cacheable reports whether slot's builder is one the cache holds.
func cacheable(slot Slot) bool { return !slot.oee && !slot.event && slot.shard < maxShards }

// builderOf returns the builder of slot, a cacheable one.
func (p *Packer) builderOf(slot Slot) *Builder {
	c, bit := p.cached(slot.topic), uint64(1)<<slot.shard
	if c.known&bit == 0 {
		c.builders[slot.shard] = p.bySlot[slot]
		c.known |= bit
	}
	return c.builders[slot.shard]
}

// note records that slot's builder is now b (nil: none), if the cache
// holds slot's topic.
func (p *Packer) note(slot Slot, b *Builder) {
	if c := &p.last; c.valid && c.topic == slot.topic && cacheable(slot) {
		c.builders[slot.shard] = b
		c.known |= uint64(1) << slot.shard
	}
}
