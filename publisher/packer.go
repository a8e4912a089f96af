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

// builder fills one message for one topic.
type builder struct {
	topic       string
	start       time.Time // when its first reading was read
	first, last uint64    // seq of its first and last readings
	count       int
	body        body
}

// packer owns the builders: at most one per topic, ordered by start.
type packer struct {
	max      int    // MaxMessageBytes
	room     int    // max less the envelope: what a body may take
	prefix   []byte // envelope up to the value of "first"
	arrayKey string // `,"nodes":[` or `,"readings":[`
	compact  bool
	active   []*builder // by start, oldest first
	byTopic  map[string]*builder
	free     []*builder
}

func newPacker(bridge, encoding string, maxBytes int) *packer {
	p := &packer{max: maxBytes, compact: encoding == EncodingCompact, byTopic: map[string]*builder{}}
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
	return p
}

// get returns the topic's builder, or nil when none is being filled.
func (p *packer) get(topic string) *builder { return p.byTopic[topic] }

// full reports whether no new builder may start until one is sent.
func (p *packer) full() bool { return len(p.active) >= maxActiveBuilders }

// start returns an empty builder for topic, started at now.
func (p *packer) start(topic string, now time.Time) *builder {
	var b *builder
	if n := len(p.free); n > 0 {
		b, p.free = p.free[n-1], p.free[:n-1]
	} else {
		b = &builder{body: p.newBody()}
	}
	b.topic, b.start = topic, now
	p.active = append(p.active, b)
	p.byTopic[topic] = b
	return b
}

func (p *packer) newBody() body {
	if p.compact {
		return newCompactBody()
	}
	return &flatBody{}
}

// add puts r into b if the message stays within max; false leaves b as it was.
func (p *packer) add(b *builder, r *factorybridge.Reading) bool {
	if !b.body.tryAdd(r, p.room) {
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
	if p.compact {
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
	dst = append(dst, p.prefix...)
	dst = strconv.AppendUint(dst, b.first, 10)
	dst = strconv.AppendUint(append(dst, `,"last":`...), b.last, 10)
	dst = strconv.AppendInt(append(dst, `,"count":`...), int64(b.count), 10)
	if c, ok := b.body.(*compactBody); ok {
		dst = strconv.AppendInt(append(dst, `,"t0":`...), c.t0, 10)
	}
	dst = append(dst, p.arrayKey...)
	dst = b.body.appendTo(dst)
	dst = append(dst, "]}"...)
	p.release(b)
	return dst
}

// release forgets b and keeps it for reuse.
func (p *packer) release(b *builder) {
	delete(p.byTopic, b.topic)
	if i := slices.Index(p.active, b); i >= 0 {
		p.active = slices.Delete(p.active, i, i+1)
	}
	b.body.reset(2 * p.max)
	b.topic, b.count, b.first, b.last = "", 0, 0, 0
	if len(p.free) < keptBuilders {
		p.free = append(p.free, b)
	}
}

// reset drops every builder; their readings will be read again.
func (p *packer) reset() {
	for len(p.active) > 0 {
		p.release(p.active[0])
	}
}
