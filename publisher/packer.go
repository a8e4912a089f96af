package publisher

import (
	"slices"
	"strconv"
	"time"

	"factorybridge"
)

// Encodings of the readings inside a message (config mqtt.encoding).
const (
	EncodingCompact = "compact"
	EncodingFlat    = "flat"
)

// MinMessageBytes is the smallest MaxMessageBytes New accepts: room for the
// envelope and one ordinary reading.
const MinMessageBytes = 512

// maxActiveBuilders bounds the messages being filled at once (one per topic);
// like the topic cache it matters only if a corrupt buffer invents topics.
const maxActiveBuilders = 1024

// keptBuilders is how many emptied builders are kept for reuse.
const keptBuilders = 8

// headerReserve is the envelope size with first, last and count at their
// widest, so a body that fits within max-headerReserve always makes a
// message within max.
func headerReserve(prefixLen int, arrayKey string) int {
	const widest = len("18446744073709551615")
	return prefixLen + 4*widest + len(`,"last":`) + len(`,"count":`) + len(`,"t0":`) + len(arrayKey) + len("]}")
}

// Sharding: a message holds one topic's readings, but with thousands of
// nodes on one topic a message fills with one sample of each node, and the
// node's head (name, id, server, type) dominates its size. When a compact
// message fills with fewer than sparseRatio samples per node, the topic's
// nodes are split over twice as many builders (by a hash of the node name),
// up to maxShards, so each message holds fewer nodes with more samples each.
// A node always maps to one builder of a topic, so its readings stay in order.
const (
	sparseRatio = 8
	maxShards   = 64
)

// slotKey names a builder: its topic and its shard of the topic's nodes.
type slotKey struct {
	topic string
	shard uint32
	oee   bool // OEE records: their own builders and envelope (oee.go)
}

// builder fills one message for one topic.
type builder struct {
	slot        slotKey
	topic       string
	start       time.Time // when its first reading was read
	first, last uint64    // seq of its first and last readings
	count       int
	body        body
}

// packer owns the builders: at most one per topic, ordered by start.
type packer struct {
	max       int    // MaxMessageBytes
	room      int    // max less the envelope: what a body may take
	prefix    []byte // envelope up to the value of "first"
	arrayKey  string // `,"nodes":[` or `,"readings":[`
	oeePrefix []byte // envelope of OEE messages up to "first"
	oeeRoom   int    // what an OEE message's body may take
	compact   bool
	active    []*builder // by start, oldest first
	bySlot    map[slotKey]*builder
	shards    map[string]uint32 // topics split over several builders
	free      []*builder
}

func newPacker(bridge, encoding string, maxBytes int) *packer {
	p := &packer{max: maxBytes, compact: encoding == EncodingCompact, bySlot: map[slotKey]*builder{}, shards: map[string]uint32{}}
	p.prefix = append(p.prefix, `{"v":1,"bridge":`...)
	p.prefix = appendString(p.prefix, bridge)
	p.prefix = append(p.prefix, `,"type":"readings","encoding":`...)
	p.prefix = appendString(p.prefix, encoding)
	p.prefix = append(p.prefix, `,"first":`...)
	p.arrayKey = `,"readings":[`
	if p.compact {
		p.arrayKey = `,"nodes":[`
	}
	p.room = maxBytes - headerReserve(len(p.prefix), p.arrayKey)
	p.initOEE(bridge)
	return p
}

// get returns the topic's (unsharded) builder, or nil when none is being filled.
func (p *packer) get(topic string) *builder { return p.bySlot[slotKey{topic: topic}] }

// slotOf returns the builder slot of r, whose topic is topic.
func (p *packer) slotOf(topic string, r *factorybridge.Reading) slotKey {
	if r.Class == factorybridge.ClassOEE {
		return slotKey{topic: topic, oee: true}
	}
	k := p.shards[topic]
	if k <= 1 {
		return slotKey{topic: topic}
	}
	return slotKey{topic: topic, shard: nodeHash(r.Name) % k}
}

// getSlot returns the builder of slot, or nil.
func (p *packer) getSlot(slot slotKey) *builder { return p.bySlot[slot] }

// sparse reports whether b, a full message, holds too few samples per node.
func (p *packer) sparse(b *builder) bool {
	c, ok := b.body.(*compactBody)
	return ok && b.count < sparseRatio*len(c.groups) && p.shards[b.topic] < maxShards
}

// topicBuilders returns the builders of topic being filled.
func (p *packer) topicBuilders(topic string) []*builder {
	var bs []*builder
	for _, b := range p.active {
		if b.topic == topic {
			bs = append(bs, b)
		}
	}
	return bs
}

// split doubles the shards of topic; its builders must have been sent.
func (p *packer) split(topic string) {
	p.shards[topic] = max(1, p.shards[topic]) * 2
}

// nodeHash is FNV-1a of a node name.
func nodeHash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// full reports whether no new builder may start until one is sent.
func (p *packer) full() bool { return len(p.active) >= maxActiveBuilders }

// start returns an empty unsharded builder for topic, started at now.
func (p *packer) start(topic string, now time.Time) *builder {
	return p.startSlot(slotKey{topic: topic}, now)
}

// startSlot returns an empty builder for slot, started at now.
func (p *packer) startSlot(slot slotKey, now time.Time) *builder {
	var b *builder
	switch n := len(p.free); {
	case slot.oee:
		b = &builder{body: &listBody{item: appendOEERecord}}
	case n > 0:
		b, p.free = p.free[n-1], p.free[:n-1]
	default:
		b = &builder{body: p.newBody()}
	}
	b.slot, b.topic, b.start = slot, slot.topic, now
	p.active = append(p.active, b)
	p.bySlot[slot] = b
	return b
}

func (p *packer) newBody() body {
	if p.compact {
		return newCompactBody()
	}
	return &listBody{item: appendFlatReading}
}

// add puts r into b if the message stays within max; false leaves b as it was.
func (p *packer) add(b *builder, r *factorybridge.Reading) bool {
	room := p.room
	if b.slot.oee {
		room = p.oeeRoom
	}
	if !b.body.tryAdd(r, room) {
		return false
	}
	if b.count == 0 {
		b.first = r.Seq
	}
	b.last = r.Seq
	b.count++
	return true
}

// sizeAlone is the size of a message holding only r.
func (p *packer) sizeAlone(r *factorybridge.Reading) int {
	n := p.max - p.room
	switch {
	case r.Class == factorybridge.ClassOEE:
		return p.max - p.oeeRoom + len(appendOEERecord(nil, r))
	case p.compact:
		return n + len(appendSample(appendGroupHead(nil, r), r, r.Seq, baseMillis(r))) + len(groupTail)
	}
	return n + len(appendFlatReading(nil, r))
}

// oldest returns the builder started first, or nil.
func (p *packer) oldest() *builder {
	if len(p.active) == 0 {
		return nil
	}
	return p.active[0]
}

// minFirst returns the smallest first seq of any builder and whether one exists.
func (p *packer) minFirst() (uint64, bool) {
	var low uint64
	for i, b := range p.active {
		if i == 0 || b.first < low {
			low = b.first
		}
	}
	return low, len(p.active) > 0
}

// finish appends b's message to dst and releases b.
func (p *packer) finish(b *builder, dst []byte) []byte {
	prefix, arrayKey := p.prefix, p.arrayKey
	if b.slot.oee {
		prefix, arrayKey = p.oeePrefix, oeeArrayKey
	}
	dst = append(dst, prefix...)
	dst = strconv.AppendUint(dst, b.first, 10)
	dst = strconv.AppendUint(append(dst, `,"last":`...), b.last, 10)
	dst = strconv.AppendInt(append(dst, `,"count":`...), int64(b.count), 10)
	if c, ok := b.body.(*compactBody); ok {
		dst = strconv.AppendInt(append(dst, `,"t0":`...), c.t0, 10)
	}
	dst = append(dst, arrayKey...)
	dst = b.body.appendTo(dst)
	dst = append(dst, "]}"...)
	p.release(b)
	return dst
}

// release forgets b and keeps it for reuse.
func (p *packer) release(b *builder) {
	delete(p.bySlot, b.slot)
	if i := slices.Index(p.active, b); i >= 0 {
		p.active = slices.Delete(p.active, i, i+1)
	}
	b.body.reset(2 * p.max)
	oee := b.slot.oee
	b.slot, b.topic, b.count, b.first, b.last = slotKey{}, "", 0, 0, 0
	if len(p.free) < keptBuilders && !oee { // reused builders have a readings body
		p.free = append(p.free, b)
	}
}

// reset drops every builder; their readings will be read again.
func (p *packer) reset() {
	for len(p.active) > 0 {
		p.release(p.active[0])
	}
}
