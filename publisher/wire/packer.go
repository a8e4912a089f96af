package wire

import (
	"hash/maphash"
	"iter"
	"slices"
	"strconv"
	"time"

	"factorybridge"
)

// Encodings of the readings inside a message (config mqtt.encoding).
const (
	// EncodingCompact groups samples by node, so a node's name, id and
	// type are written once per message.
	EncodingCompact = "compact"
	// EncodingFlat writes one self-describing object per reading.
	EncodingFlat = "flat"
)

// MinMessageBytes is the smallest message size a transport accepts and
// configuration allows: room for the envelope and a few ordinary readings.
// The packer itself works with any size that holds the envelope; readings
// that do not fit alone are rejected by the transport.
const MinMessageBytes = 1 << 10

// maxActiveBuilders bounds the messages being filled at once (one per topic);
// like the topic cache it matters only if a corrupt buffer invents topics.
const maxActiveBuilders = 1024

// keptBuilders is how many emptied builders are kept for reuse: as many as
// a topic's shards, since packing by cycle sends them all at the cycle's
// end and fills them all again in the next (a builder's buffers reach a
// message's size, and making them again for every message was most of
// what packing allocated).
const keptBuilders = maxShards

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

// Slot names a builder: its topic and its shard of the topic's nodes. The
// zero Slot is no builder's.
type Slot struct {
	topic string
	shard uint32
	oee   bool // OEE records: their own builders and envelope (oee.go)
	event bool // events: their own builders and envelope (event.go)
}

// Builder fills one message for one topic. A Packer hands it out and takes
// it back (Finish, Release); its accessors tell the transport what it holds.
type Builder struct {
	slot        Slot
	topic       string
	start       time.Time // when its first reading was read
	due         time.Time // when it must go out at the latest (Hold); zero: not said
	until       time.Time // the transport's own deadline in its readings' time (HoldUntil); zero: none
	first, last uint64    // seq of its first and last readings
	count       int
	body        body
}

// Packer packs readings into messages of at most a maximum size: it owns
// the builders, at most one per slot, ordered by start. It is not safe for
// concurrent use: one goroutine of a transport drives it.
type Packer struct {
	max       int    // MaxMessageBytes
	room      int    // max less the envelope: what a body may take
	prefix    []byte // envelope up to the value of "first"
	arrayKey  string // `,"nodes":[` or `,"readings":[`
	oeePrefix []byte // envelope of OEE messages up to "first"
	oeeRoom   int    // what an OEE message's body may take
	evPrefix  []byte // envelope of event messages up to "first"
	evRoom    int    // what an event message's body may take
	compact   bool
	ps        *pubsub    // the pubsub-json encoding's writers; nil for the others
	active    []*Builder // by start, oldest first
	bySlot    map[Slot]*Builder
	shards    map[string]uint32 // topics split over several builders
	free      []*Builder
	held      int        // readings in active builders
	nodes     *nodeTable // the compact bodies' nodes
	seed      maphash.Seed
	last      slotCache // the topic packed last
}

// NewPacker returns a Packer of messages from bridge in encoding
// (EncodingCompact, EncodingFlat or EncodingPubSubJSON; anything else packs
// flat) of at most maxBytes bytes. The caller checks maxBytes against
// MinMessageBytes.
func NewPacker(bridge, encoding string, maxBytes int) *Packer {
	p := &Packer{max: maxBytes, compact: encoding == EncodingCompact, bySlot: map[Slot]*Builder{}, shards: map[string]uint32{},
		seed: maphash.MakeSeed()}
	if encoding == EncodingPubSubJSON {
		p.ps = newPubSub(bridge)
		p.room = maxBytes - psEnvelope(bridge)
		p.oeeRoom = p.room
		return p
	}
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
	p.initEvents(bridge)
	return p
}

// Topic is the topic b's message goes to.
func (b *Builder) Topic() string { return b.topic }

// Started is when b's first reading was read (Start's now).
func (b *Builder) Started() time.Time { return b.start }

// Due is the earliest time Hold was given since b started: when the
// transport wants it out at the latest; the zero time when Hold was not
// called.
func (b *Builder) Due() time.Time { return b.due }

// Hold notes that b must go out by t at the latest: Due becomes t when t
// is earlier. The transport calls it with each reading it adds.
func (b *Builder) Hold(t time.Time) {
	if b.due.IsZero() || t.Before(b.due) {
		b.due = t
	}
}

// Until is the earliest time HoldUntil was given since b started; the
// zero time when it was not called.
func (b *Builder) Until() time.Time { return b.until }

// HoldUntil notes a second deadline, which the transport measures on a
// clock of its own (the readings' time): Until becomes t when t is
// earlier.
func (b *Builder) HoldUntil(t time.Time) {
	if b.until.IsZero() || t.Before(b.until) {
		b.until = t
	}
}

// First is the seq of b's first reading; 0 while b is empty.
func (b *Builder) First() uint64 { return b.first }

// Last is the seq of b's last reading; 0 while b is empty.
func (b *Builder) Last() uint64 { return b.last }

// Count is the number of readings in b.
func (b *Builder) Count() int { return b.count }

// SlotOf returns the builder slot of r, whose topic is topic.
func (p *Packer) SlotOf(topic string, r *factorybridge.Reading) Slot {
	switch r.Class {
	case factorybridge.ClassOEE:
		return Slot{topic: topic, oee: true}
	case factorybridge.ClassEvent:
		return Slot{topic: topic, event: true}
	}
	k := p.cached(topic).shards
	if k <= 1 {
		return Slot{topic: topic}
	}
	return Slot{topic: topic, shard: uint32(maphash.String(p.seed, r.Name) % uint64(k))}
}

// Builder returns the builder of slot, or nil when none is being filled.
func (p *Packer) Builder(slot Slot) *Builder {
	if cacheable(slot) {
		return p.builderOf(slot)
	}
	return p.bySlot[slot]
}

// Sparse reports whether b, a full message, holds too few samples per
// node: sending its topic's builders and calling Split then makes messages
// that hold more samples per node.
func (p *Packer) Sparse(b *Builder) bool {
	c, ok := b.body.(*compactBody)
	return ok && b.count < sparseRatio*len(c.groups) && p.shards[b.topic] < maxShards
}

// TopicBuilders returns the builders of topic being filled.
func (p *Packer) TopicBuilders(topic string) []*Builder {
	var bs []*Builder
	for _, b := range p.active {
		if b.topic == topic {
			bs = append(bs, b)
		}
	}
	return bs
}

// Split doubles the shards of topic; its builders must have been finished.
func (p *Packer) Split(topic string) {
	p.shards[topic] = max(1, p.shards[topic]) * 2
	p.last.valid = false
}

// Full reports whether no new builder may start until one is finished.
func (p *Packer) Full() bool { return len(p.active) >= maxActiveBuilders }

// Start returns an empty builder for slot, started at now (when its first
// reading was read: the batch delay counts from then).
func (p *Packer) Start(slot Slot, now time.Time) *Builder {
	var b *Builder
	switch n := len(p.free); {
	case slot.oee && p.ps != nil:
		b = &Builder{body: &psOEEBody{}}
	case slot.oee:
		b = &Builder{body: &listBody{item: appendOEERecord}}
	case slot.event:
		b = &Builder{body: &listBody{item: appendEventRecord}}
	case n > 0:
		b, p.free = p.free[n-1], p.free[:n-1]
	default:
		b = &Builder{body: p.newBody()}
	}
	b.slot, b.topic, b.start, b.due, b.until = slot, slot.topic, now, time.Time{}, time.Time{}
	p.active = append(p.active, b)
	p.bySlot[slot] = b
	p.note(slot, b)
	return b
}

func (p *Packer) newBody() body {
	if p.ps != nil {
		return newPSBody()
	}
	if p.compact {
		if p.nodes == nil {
			p.nodes = newNodeTable()
		}
		return &compactBody{nodes: p.nodes}
	}
	return &listBody{item: AppendFlatReading}
}

// Add puts r into b if the message stays within the maximum; false leaves
// b as it was.
func (p *Packer) Add(b *Builder, r *factorybridge.Reading) bool {
	if !b.body.tryAdd(r, p.roomOf(b)) {
		return false
	}
	if b.count == 0 {
		b.first = r.Seq
	}
	b.last = r.Seq
	b.count++
	p.held++
	return true
}

// roomOf is what b's body may take of a message.
func (p *Packer) roomOf(b *Builder) int {
	switch {
	case b.slot.oee:
		return p.oeeRoom
	case b.slot.event:
		return p.evRoom
	}
	return p.room
}

// SizeAlone is the size of a message holding only r: when it is over the
// maximum, r can never be sent.
func (p *Packer) SizeAlone(r *factorybridge.Reading) int {
	n := p.max - p.room
	switch {
	case p.ps != nil:
		return p.sizeAlonePubSub(r)
	case r.Class == factorybridge.ClassOEE:
		return p.max - p.oeeRoom + len(appendOEERecord(nil, r))
	case r.Class == factorybridge.ClassEvent:
		return p.max - p.evRoom + len(appendEventRecord(nil, r))
	case p.compact:
		var g group
		bt, has := bridgeMillis(r, baseMillis(r))
		g.addBT(bt, has)
		return n + len(appendSample(appendGroupHead(nil, r), r, r.Seq, baseMillis(r))) + len(groupTail) + g.btSize()
	}
	return n + len(AppendFlatReading(nil, r))
}

// Oldest returns the builder started first, or nil.
func (p *Packer) Oldest() *Builder {
	if len(p.active) == 0 {
		return nil
	}
	return p.active[0]
}

// Builders yields the builders being filled, oldest first. The packer
// must not change while it runs (no Start, Finish or Release).
func (p *Packer) Builders() iter.Seq[*Builder] { return slices.Values(p.active) }

// Held is the number of readings in the builders being filled: what the
// packer holds in memory besides reused buffers.
func (p *Packer) Held() int { return p.held }

// MinFirst returns the smallest first seq of any builder and whether one exists.
func (p *Packer) MinFirst() (uint64, bool) {
	var low uint64
	for i, b := range p.active {
		if i == 0 || b.first < low {
			low = b.first
		}
	}
	return low, len(p.active) > 0
}

// Finish appends b's message to dst and releases b. dst grows once, to
// the message's size at most, rather than by steps that leave copies.
func (p *Packer) Finish(b *Builder, dst []byte) []byte {
	dst = slices.Grow(dst, p.max-p.roomOf(b)+b.body.size())
	if p.ps != nil {
		return p.finishPubSub(b, dst)
	}
	prefix, arrayKey := p.prefix, p.arrayKey
	switch {
	case b.slot.oee:
		prefix, arrayKey = p.oeePrefix, oeeArrayKey
	case b.slot.event:
		prefix, arrayKey = p.evPrefix, eventArrayKey
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
	p.Release(b)
	return dst
}

// Release forgets b, whose readings are dropped, and keeps it for reuse.
func (p *Packer) Release(b *Builder) {
	delete(p.bySlot, b.slot)
	p.note(b.slot, nil)
	if i := slices.Index(p.active, b); i >= 0 {
		p.active = slices.Delete(p.active, i, i+1)
	}
	b.body.reset(2 * p.max)
	list := b.slot.oee || b.slot.event
	p.held -= b.count
	b.slot, b.topic, b.count, b.first, b.last, b.due, b.until = Slot{}, "", 0, 0, 0, time.Time{}, time.Time{}
	if len(p.free) < keptBuilders && !list { // reused builders have a readings body
		p.free = append(p.free, b)
	}
}

// Reset drops every builder; their readings will be read again. It starts
// a new connection: pubsub-json metadata is sent again.
func (p *Packer) Reset() {
	for len(p.active) > 0 {
		p.Release(p.active[0])
	}
	if p.ps != nil {
		p.ps.resetConnection()
	}
}
