package wire

import (
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
