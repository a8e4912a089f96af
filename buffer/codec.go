package buffer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	fb "factorybridge"
)

// A segment is the bbolt value holding one group commit's readings, keyed by
// its first sequence number (big-endian, so bbolt's order is FIFO order).
//
//	magic byte 'S' | version byte | crc32c of the rest (4 bytes, LE)
//	uvarint count | varint commit time (OPC UA ticks) | readings…
//
// A reading is
//
//	uvarint origin | flags byte | [uvarint status] | [varint source Δ] |
//	[varint server Δ] | [varint bridge Δ] | value
//
// where origin is the number of the reading's (name, server, line, station,
// node id) in the file's dictionary (dict.go). Timestamps are deltas from
// the commit time in ticks (100 ns). A segment holding a bridge time is
// version 3, others version 2 as before: a bridge too old to know bridge
// times finds such a segment corrupt rather than misreading it.
// A value is a type byte (0x80 set for arrays, then a uvarint length) and
// the payload of each scalar per its Kind.
const (
	segMagic   = 'S'
	segVersion = 2 // segments without bridge times
	segBridge  = 3 // segments with one or more (flagBridgeTime)
	segHeader  = 6

	flagStatus     = 1 << 0
	flagSourceTime = 1 << 1
	flagServerTime = 1 << 2
	// Reading.Class is held in bits 3–5; ClassOEE (1) is bit 3, as it was
	// before more classes existed, so older segments read the same.
	classShift     = 3
	classMask      = 7 << classShift
	flagBridgeTime = 1 << 6 // Reading.BridgeTime is set (bits 3–5 hold Reading.Class)

	arrayBit = 0x80
)

// MaxArrayLen bounds decoded arrays so a corrupt length cannot allocate
// without limit.
const MaxArrayLen = 1 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt reports a segment that does not decode.
var ErrCorrupt = errors.New("corrupt segment")

type origin struct{ name, server, line, station, nodeID string }

func originOf(r *fb.Reading) origin {
	return origin{r.Name, r.Server, r.Line, r.Station, r.NodeID}
}

// encoder builds one segment; reuse it across commits to avoid allocation.
type encoder struct {
	buf   []byte // readings of the segment being built
	dict  *dictionary
	base  int64
	count int
	bt    bool // a reading has a bridge time: the segment is segBridge
}

func (e *encoder) reset(commit time.Time) {
	e.base = fb.TimeToTicks(commit)
	e.count, e.bt = 0, false
	e.buf = e.buf[:0]
}

// add appends one reading; the count and commit time are written by
// appendSegment.
func (e *encoder) add(r *fb.Reading) {
	e.count++
	e.buf = binary.AppendUvarint(e.buf, e.dict.id(r))
	e.buf = append(e.buf, readingFlags(r))
	if r.Status != 0 {
		e.buf = binary.AppendUvarint(e.buf, uint64(r.Status))
	}
	if !r.SourceTime.IsZero() {
		e.buf = binary.AppendVarint(e.buf, fb.TimeToTicks(r.SourceTime)-e.base)
	}
	if !r.ServerTime.IsZero() {
		e.buf = binary.AppendVarint(e.buf, fb.TimeToTicks(r.ServerTime)-e.base)
	}
	if !r.BridgeTime.IsZero() {
		e.buf = binary.AppendVarint(e.buf, fb.TimeToTicks(r.BridgeTime)-e.base)
		e.bt = true
	}
	e.buf = appendValue(e.buf, r.Value)
}

func readingFlags(r *fb.Reading) byte {
	var f byte
	if r.Status != 0 {
		f |= flagStatus
	}
	if !r.SourceTime.IsZero() {
		f |= flagSourceTime
	}
	if !r.ServerTime.IsZero() {
		f |= flagServerTime
	}
	f |= byte(r.Class) << classShift & classMask
	if !r.BridgeTime.IsZero() {
		f |= flagBridgeTime
	}
	return f
}

// appendSegment appends the segment to dst: the header (count and commit
// time) and the readings added since reset.
func (e *encoder) appendSegment(dst []byte) []byte {
	version := byte(segVersion)
	if e.bt {
		version = segBridge
	}
	start := len(dst)
	dst = append(dst, segMagic, version, 0, 0, 0, 0)
	dst = binary.AppendUvarint(dst, uint64(e.count))
	dst = binary.AppendVarint(dst, e.base)
	dst = append(dst, e.buf...)
	putCRC(dst[start:])
	return dst
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v fb.Value) []byte {
	if !v.Array {
		return appendScalar(append(b, byte(v.Type)), v.Type, v)
	}
	b = append(b, byte(v.Type)|arrayBit)
	b = binary.AppendUvarint(b, uint64(len(v.Elems)))
	for _, el := range v.Elems {
		b = appendScalar(b, v.Type, el)
	}
	return b
}

func appendScalar(b []byte, t fb.Type, v fb.Value) []byte {
	switch t.Kind() {
	case fb.KindBool, fb.KindUint:
		return binary.AppendUvarint(b, v.Bits)
	case fb.KindInt, fb.KindTime:
		return binary.AppendVarint(b, int64(v.Bits))
	case fb.KindFloat:
		if t == fb.TypeFloat {
			return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v.Float())))
		}
		return binary.LittleEndian.AppendUint64(b, v.Bits)
	case fb.KindText, fb.KindBytes:
		return appendString(b, v.Str)
	}
	return b
}

// segmentInfo is what a segment's header says without decoding its readings.
type segmentInfo struct {
	count  uint64
	commit time.Time
}

func readHeader(seg []byte) (segmentInfo, []byte, error) {
	if len(seg) < segHeader || seg[0] != segMagic || (seg[1] != segVersion && seg[1] != segBridge) {
		return segmentInfo{}, nil, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	d := decoder{b: seg[segHeader:]}
	info := segmentInfo{count: d.uvarint(), commit: fb.TicksToTime(d.varint())}
	if d.err != nil || info.count == 0 {
		return segmentInfo{}, nil, fmt.Errorf("%w: bad count or time", ErrCorrupt)
	}
	return info, d.b, nil
}

// verify checks the segment's checksum.
func verify(seg []byte) error {
	if len(seg) < segHeader {
		return fmt.Errorf("%w: %d bytes", ErrCorrupt, len(seg))
	}
	if binary.LittleEndian.Uint32(seg[2:6]) != crc32.Checksum(seg[segHeader:], crcTable) {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return nil
}

// decodeSegment appends to dst the readings of seg whose sequence (first+i)
// is greater than after, at most max of them. Strings are copied: the result
// does not alias seg (bbolt memory is only valid inside its transaction).
func decodeSegment(dst []fb.Reading, seg []byte, origins []origin, first, after uint64, max int) ([]fb.Reading, error) {
	if err := verify(seg); err != nil {
		return dst, err
	}
	info, body, err := readHeader(seg)
	if err != nil {
		return dst, err
	}
	d := decoder{b: body, base: fb.TimeToTicks(info.commit), origins: origins}
	for i := uint64(0); i < info.count && max > 0; i++ {
		r := d.reading()
		if d.err != nil {
			return dst, fmt.Errorf("%w: reading %d of %d: %v", ErrCorrupt, i, info.count, d.err)
		}
		if r.Seq = first + i; r.Seq > after {
			dst = append(dst, r)
			max--
		}
	}
	return dst, nil
}

type decoder struct {
	b       []byte
	err     error
	base    int64
	origins []origin
}

var errShort = errors.New("truncated")

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail(errShort)
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errShort)
		return ""
	}
	return string(d.bytes(int(n)))
}

func (d *decoder) origin() origin {
	ref := d.uvarint()
	if ref >= uint64(len(d.origins)) {
		d.fail(fmt.Errorf("origin %d beyond the dictionary's %d", ref, len(d.origins)))
		return origin{}
	}
	return d.origins[ref]
}

func (d *decoder) reading() fb.Reading {
	o := d.origin()
	r := fb.Reading{Name: o.name, Server: o.server, Line: o.line, Station: o.station, NodeID: o.nodeID}
	flags := d.bytes(1)
	if d.err != nil {
		return r
	}
	if flags[0]&flagStatus != 0 {
		r.Status = uint32(d.uvarint())
	}
	if flags[0]&flagSourceTime != 0 {
		r.SourceTime = fb.TicksToTime(d.varint() + d.base)
	}
	if flags[0]&flagServerTime != 0 {
		r.ServerTime = fb.TicksToTime(d.varint() + d.base)
	}
	if flags[0]&flagBridgeTime != 0 {
		r.BridgeTime = fb.TicksToTime(d.varint() + d.base)
	}
	r.Class = fb.Class(flags[0] & classMask >> classShift)
	r.Value = d.value()
	return r
}

func (d *decoder) value() fb.Value {
	tb := d.bytes(1)
	if d.err != nil {
		return fb.Value{}
	}
	t := fb.Type(tb[0] &^ arrayBit)
	if t > fb.TypeDiagnosticInfo {
		d.fail(fmt.Errorf("unknown type %d", t))
		return fb.Value{}
	}
	if tb[0]&arrayBit == 0 {
		return d.scalar(t)
	}
	n := d.uvarint()
	if n > MaxArrayLen || n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("array of %d elements", n))
		return fb.Value{}
	}
	elems := make([]fb.Value, n)
	for i := range elems {
		elems[i] = d.scalar(t)
	}
	return fb.ArrayValue(t, elems)
}

func (d *decoder) scalar(t fb.Type) fb.Value {
	v := fb.Value{Type: t}
	switch t.Kind() {
	case fb.KindBool, fb.KindUint:
		v.Bits = d.uvarint()
	case fb.KindInt, fb.KindTime:
		v.Bits = uint64(d.varint())
	case fb.KindFloat:
		if t == fb.TypeFloat {
			if p := d.bytes(4); p != nil {
				v.Bits = math.Float64bits(float64(math.Float32frombits(binary.LittleEndian.Uint32(p))))
			}
		} else if p := d.bytes(8); p != nil {
			v.Bits = binary.LittleEndian.Uint64(p)
		}
	case fb.KindText, fb.KindBytes:
		v.Str = d.string()
	}
	return v
}

func putCRC(seg []byte) {
	binary.LittleEndian.PutUint32(seg[2:6], crc32.Checksum(seg[segHeader:], crcTable))
}
