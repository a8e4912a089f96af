package wire

import (
	"math"
	"strconv"
	"time"

	"factorybridge"
)

// body accumulates the readings of one message in one encoding. tryAdd
// encodes r and keeps it only if the body then stays within room bytes; the
// body's size is what it adds to the message between the array brackets.
type body interface {
	tryAdd(r *factorybridge.Reading, room int) bool
	appendTo(dst []byte) []byte
	size() int
	reset(maxKeep int)
}

// listBody holds one JSON object per entry, comma-separated, in one buffer:
// the flat encoding (AppendFlatReading) and OEE records (appendOEERecord).
type listBody struct {
	buf  []byte
	item func(b []byte, r *factorybridge.Reading) []byte
}

func (l *listBody) size() int                  { return len(l.buf) }
func (l *listBody) appendTo(dst []byte) []byte { return append(dst, l.buf...) }

func (l *listBody) reset(maxKeep int) {
	if cap(l.buf) > maxKeep {
		l.buf = nil
	}
	l.buf = l.buf[:0]
}

func (l *listBody) tryAdd(r *factorybridge.Reading, room int) bool {
	mark := len(l.buf)
	if mark > 0 {
		l.buf = append(l.buf, ',')
	}
	l.buf = l.item(l.buf, r)
	if len(l.buf) > room {
		l.buf = l.buf[:mark]
		return false
	}
	return true
}

// AppendFlatReading appends r to b as the flat encoding's self-describing
// object. It holds every field of r, so it is also a canonical form to
// compare readings by (tests compare what was decoded with what was sent).
func AppendFlatReading(b []byte, r *factorybridge.Reading) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = appendField(b, "name", r.Name)
	b = appendField(b, "id", r.NodeID)
	b = appendField(b, "server", r.Server)
	b = appendField(b, "line", r.Line)
	b = appendField(b, "station", r.Station)
	b = appendField(b, "type", r.Value.Type.String())
	b = append(b, `,"value":`...)
	b = appendValue(b, &r.Value)
	b = append(b, `,"status":`...)
	b = strconv.AppendUint(b, uint64(r.Status), 10)
	b = appendTimes(b, `,"source_time":`, r.SourceTime, `,"server_time":`, r.ServerTime)
	if !r.BridgeTime.IsZero() {
		b = appendTime(append(b, `,"bridge_time":`...), r.BridgeTime)
	}
	return appendMark(b, r.Class)
}

// Marks of readings that are not live values (docs/message-format.md).
const (
	MarkHeartbeat = "heartbeat"
	MarkBackfill  = "backfill"
)

// markOf returns the mark of a reading's class, "" for a live reading.
func markOf(c factorybridge.Class) string {
	switch c {
	case factorybridge.ClassHeartbeat:
		return MarkHeartbeat
	case factorybridge.ClassBackfill:
		return MarkBackfill
	}
	return ""
}

// appendMark appends `,"mark":"…"` for a reading that is not a live value,
// and the closing brace.
func appendMark(b []byte, c factorybridge.Class) []byte {
	if m := markOf(c); m != "" {
		b = appendField(b, "mark", m)
	}
	return append(b, '}')
}

// appendTimes appends the keys and times of the non-zero times a and b.
func appendTimes(b []byte, keyA string, a time.Time, keyB string, bt time.Time) []byte {
	if !a.IsZero() {
		b = appendTime(append(b, keyA...), a)
	}
	if !bt.IsZero() {
		b = appendTime(append(b, keyB...), bt)
	}
	return b
}

// appendField appends `,"key":"value"`; key must need no escaping.
func appendField(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// compactBody groups samples by node so names are written once per message.
// Samples and group heads live in one arena; entries link each group's
// samples in arrival order, so memory is bounded by the message size and
// nothing is copied until the message is assembled.
type compactBody struct {
	// base and t0 are the first reading's seq and time (Unix ms): samples
	// carry their differences, which keeps a counter reading near 20 bytes.
	base    uint64
	t0      int64
	arena   []byte
	entries []entry
	// bts is each entry's bridge time (ms - t0), noBT where it has none;
	// empty while no entry has one, which is the common case: a packer
	// holds up to a publishing cycle of readings, so entries stay small.
	bts    []int64
	groups []group
	keys   []groupKey // by group
	index  map[groupKey]int32
	byName map[string]int32 // a name's first group: hashes one string, not six fields
	total  int              // bytes the groups add to the message
}

// entry is one sample's bytes in the arena and the next sample of its
// group.
type entry struct {
	off, end, next int32
}

// noBT marks an entry without a bridge time in compactBody.bts.
const noBT = math.MinInt64

// group is one node's head (in the arena) and its first and last entries,
// with what its bridge_times array needs: the samples, those with a bridge
// time, and the bytes of their numbers.
type group struct {
	headOff, headEnd, first, last int32
	n, nBT, btBytes               int
}

// groupKey tells nodes apart; a node whose value type changes (a Bad reading
// with a null value) gets a second group so that "type" stays exact, and
// its heartbeats and backfilled readings get groups of their own, marked.
type groupKey struct {
	name, id, server, line, station string
	typ                             factorybridge.Type
	class                           factorybridge.Class
}

const groupTail = "]}"

func newCompactBody() *compactBody {
	return &compactBody{index: map[groupKey]int32{}, byName: map[string]int32{}}
}

// lookup returns the group of key. Names come from configuration, so
// comparing the other fields is mostly a pointer comparison.
func (c *compactBody) lookup(key groupKey) (int32, bool) {
	if gi, ok := c.byName[key.name]; ok && c.keys[gi] == key {
		return gi, true
	}
	gi, ok := c.index[key]
	return gi, ok
}

func (c *compactBody) size() int { return c.total }

func (c *compactBody) reset(maxKeep int) {
	if cap(c.arena) > maxKeep {
		c.arena, c.entries, c.bts, c.index, c.byName = nil, nil, nil, map[groupKey]int32{}, map[string]int32{}
	}
	c.arena, c.entries, c.bts, c.groups, c.keys = c.arena[:0], c.entries[:0], c.bts[:0], c.groups[:0], c.keys[:0]
	clear(c.index)
	clear(c.byName)
	c.total, c.base, c.t0 = 0, 0, 0
}

func (c *compactBody) tryAdd(r *factorybridge.Reading, room int) bool {
	if len(c.groups) == 0 {
		c.base, c.t0 = r.Seq, baseMillis(r)
	}
	key := groupKey{r.Name, r.NodeID, r.Server, r.Line, r.Station, r.Value.Type, r.Class}
	gi, found := c.lookup(key)
	mark := len(c.arena)
	extra := 0
	if !found {
		c.arena = appendGroupHead(c.arena, r)
		extra = len(c.arena) - mark + len(groupTail)
		if len(c.groups) > 0 {
			extra++ // comma between groups
		}
	} else {
		extra++ // comma between samples
	}
	off := len(c.arena)
	c.arena = appendSample(c.arena, r, c.base, c.t0)
	extra += len(c.arena) - off
	var g group // the group as it will be, for the size of its bridge times
	if found {
		g = c.groups[gi]
	}
	bt, hasBT := bridgeMillis(r, c.t0)
	before := g.btSize()
	g.addBT(bt, hasBT)
	extra += g.btSize() - before
	if c.total+extra > room {
		c.arena = c.arena[:mark]
		return false
	}
	c.total += extra
	gi = c.link(key, gi, found, int32(mark), int32(off))
	c.setBT(len(c.entries)-1, bt, hasBT)
	c.groups[gi].n, c.groups[gi].nBT, c.groups[gi].btBytes = g.n, g.nBT, g.btBytes
	return true
}

// link records the sample just appended at off, creating its group when
// new, and returns the group's index.
func (c *compactBody) link(key groupKey, gi int32, found bool, mark, off int32) int32 {
	ei := int32(len(c.entries))
	c.entries = append(c.entries, entry{off: off, end: int32(len(c.arena)), next: -1})
	if !found {
		gi = int32(len(c.groups))
		c.groups = append(c.groups, group{headOff: mark, headEnd: off, first: ei, last: ei})
		c.keys = append(c.keys, key)
		c.index[key] = gi
		if _, ok := c.byName[key.name]; !ok {
			c.byName[key.name] = gi
		}
		return gi
	}
	g := &c.groups[gi]
	c.entries[g.last].next = ei
	g.last = ei
	return gi
}

// setBT records entry i's bridge time, if it has one; bts grows only once
// an entry has one.
func (c *compactBody) setBT(i int, bt int64, has bool) {
	if !has && len(c.bts) == 0 {
		return
	}
	for len(c.bts) < i {
		c.bts = append(c.bts, noBT)
	}
	if !has {
		bt = noBT
	}
	c.bts = append(c.bts, bt)
}

func (c *compactBody) appendTo(dst []byte) []byte {
	for gi := range c.groups {
		g := &c.groups[gi]
		if gi > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c.arena[g.headOff:g.headEnd]...)
		for ei := g.first; ei >= 0; ei = c.entries[ei].next {
			if ei != g.first {
				dst = append(dst, ',')
			}
			e := c.entries[ei]
			dst = append(dst, c.arena[e.off:e.end]...)
		}
		dst = append(dst, ']')
		if g.nBT > 0 {
			dst = c.appendBridgeTimes(dst, g)
		}
		dst = append(dst, '}')
	}
	return dst
}

// appendBridgeTimes appends the group's bridge_times: one entry per sample,
// ms - t0, or null for a sample whose bridge time is its source time.
func (c *compactBody) appendBridgeTimes(dst []byte, g *group) []byte {
	dst = append(dst, bridgeTimesKey...)
	for ei := g.first; ei >= 0; ei = c.entries[ei].next {
		if ei != g.first {
			dst = append(dst, ',')
		}
		if int(ei) < len(c.bts) && c.bts[ei] != noBT {
			dst = strconv.AppendInt(dst, c.bts[ei], 10)
		} else {
			dst = append(dst, "null"...)
		}
	}
	return append(dst, ']')
}

// bridgeTimesKey opens a node's bridge_times; a node without bridge times
// has none, so messages of servers whose clocks are right do not change.
const bridgeTimesKey = `,"bridge_times":[`

// addBT counts one more sample of the group, with its bridge time if any.
func (g *group) addBT(bt int64, has bool) {
	g.n++
	if has {
		g.nBT++
		g.btBytes += len(strconv.AppendInt(nil, bt, 10))
	}
}

// btSize is the bytes of the group's bridge_times: none while no sample
// has a bridge time, else the key, the numbers, a null for each other
// sample, the commas and the closing bracket.
func (g *group) btSize() int {
	if g.nBT == 0 {
		return 0
	}
	return len(bridgeTimesKey) + g.btBytes + 4*(g.n-g.nBT) + g.n - 1 + 1
}

// bridgeMillis is r's bridge time as ms after t0; false when it has none.
func bridgeMillis(r *factorybridge.Reading, t0 int64) (int64, bool) {
	if r.BridgeTime.IsZero() {
		return 0, false
	}
	return r.BridgeTime.UnixMilli() - t0, true
}

// appendGroupHead appends a node object up to the opening of its samples.
// Line and station are not repeated: they are segments of the name.
func appendGroupHead(b []byte, r *factorybridge.Reading) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, r.Name)
	b = appendField(b, "id", r.NodeID)
	b = appendField(b, "server", r.Server)
	b = appendField(b, "type", r.Value.Type.String())
	if m := markOf(r.Class); m != "" {
		b = appendField(b, "mark", m)
	}
	return append(b, `,"samples":[`...)
}

// appendSample appends [seq-base,source_ms-t0,server_ms-t0,value] and a fifth
// element, the status code, only when it is not Good (0).
func appendSample(b []byte, r *factorybridge.Reading, base uint64, t0 int64) []byte {
	b = append(b, '[')
	b = strconv.AppendUint(b, r.Seq-base, 10)
	b = appendDeltaMillis(append(b, ','), r.SourceTime, t0)
	b = appendDeltaMillis(append(b, ','), r.ServerTime, t0)
	b = appendValue(append(b, ','), &r.Value)
	if r.Status != factorybridge.StatusGood {
		b = strconv.AppendUint(append(b, ','), uint64(r.Status), 10)
	}
	return append(b, ']')
}

// baseMillis is the time a message's sample times are relative to: the
// first reading's source time, else its server time, else 0.
func baseMillis(r *factorybridge.Reading) int64 {
	switch {
	case !r.SourceTime.IsZero():
		return r.SourceTime.UnixMilli()
	case !r.ServerTime.IsZero():
		return r.ServerTime.UnixMilli()
	}
	return 0
}

// appendDeltaMillis appends t as milliseconds after t0, or null for the zero time.
func appendDeltaMillis(b []byte, t time.Time, t0 int64) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, t.UnixMilli()-t0, 10)
}
