package wire

import (
	"crypto/sha1"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"factorybridge"
)

// versionEpoch is where OPC UA VersionTimes count from (OPC 10000-14,
// ConfigurationVersionDataType: seconds since 2000-01-01 00:00 UTC).
var versionEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// pubsub is a Packer's state of the pubsub-json encoding: its writers with
// their sequence numbers and metadata, the metadata messages waiting to be
// sent, and the count of NetworkMessages for their ids.
type pubsub struct {
	bridge   string
	writers  map[string]*psWriter
	ids      map[uint16]string // writer ids in use
	messages uint64
	pending  [][]byte // metadata messages to send before the next data
	now      func() time.Time
}

func newPubSub(bridge string) *pubsub {
	return &pubsub{bridge: bridge, writers: map[string]*psWriter{}, ids: map[uint16]string{}, now: time.Now}
}

// psWriter is one DataSetWriter: a station, or an OEE scope and record kind.
type psWriter struct {
	name      string
	id        uint16
	seq       uint32 // the last SequenceNumber sent
	fields    []psField
	index     map[string]int
	major     uint32 // ConfigurationVersion
	minor     uint32
	announced bool // its current metadata went out on this connection
}

// psField is one field of a writer's metadata.
type psField struct {
	name   string
	typ    factorybridge.Type // TypeVariant while only null values were seen
	array  bool
	nodeID string
	server string
}

// writer returns the writer of name, creating it with an id derived from
// the name (FNV-1a folded to 16 bits, never 0), the next free one on a
// collision.
func (ps *pubsub) writer(name string) *psWriter {
	if w := ps.writers[name]; w != nil {
		return w
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	sum := h.Sum32()
	id := uint16(sum ^ sum>>16)
	for id == 0 || ps.ids[id] != "" {
		id++
	}
	w := &psWriter{name: name, id: id, index: map[string]int{}}
	ps.writers[name], ps.ids[id] = w, name
	return w
}

// observe records a field's value in the writer's metadata and reports
// whether the field set changed and whether a type did (a major change).
func (w *psWriter) observe(f psField) (changed, major bool) {
	i, ok := w.index[f.name]
	if !ok {
		if f.typ == factorybridge.TypeNull {
			f.typ = factorybridge.TypeVariant
		}
		w.index[f.name] = len(w.fields)
		w.fields = append(w.fields, f)
		return true, false
	}
	old := &w.fields[i]
	if f.typ != factorybridge.TypeNull && (old.typ != f.typ || old.array != f.array) {
		major = old.typ != factorybridge.TypeVariant
		old.typ, old.array, changed = f.typ, f.array, true
	}
	if old.nodeID != f.nodeID || old.server != f.server {
		old.nodeID, old.server, changed = f.nodeID, f.server, true
	}
	return changed, major
}

// bump gives the writer a new ConfigurationVersion: VersionTimes, strictly
// increasing.
func (w *psWriter) bump(now time.Time, major bool) {
	v := uint32(max(0, now.Sub(versionEpoch)/time.Second))
	if v <= w.minor {
		v = w.minor + 1
	}
	if major || w.major == 0 {
		w.major = v
	}
	w.minor, w.announced = v, false
}

// nextSeq is the writer's next SequenceNumber, wrapping at 2^32.
func (w *psWriter) nextSeq() uint32 {
	w.seq++
	return w.seq
}

// update applies the fields a message brings to the writer's metadata, and
// queues its metadata message when it changed or has not gone out on this
// connection.
func (ps *pubsub) update(w *psWriter, fields []psField) {
	changed, major := false, false
	for _, f := range fields {
		c, m := w.observe(f)
		changed, major = changed || c, major || m
	}
	if changed || w.minor == 0 {
		w.bump(ps.now(), major)
	}
	if !w.announced {
		w.announced = true
		ps.pending = append(ps.pending, ps.appendMetaData(nil, w))
	}
}

// resetConnection forgets what went out on the connection: every writer's
// metadata is sent again before its next data.
func (ps *pubsub) resetConnection() {
	for _, w := range ps.writers {
		w.announced = false
	}
	ps.pending = nil
}

// appendMetaData appends the writer's DataSetMetaData message (7.2.5.5.2;
// the DataSetMetaDataType in the reversible encoding).
func (ps *pubsub) appendMetaData(b []byte, w *psWriter) []byte {
	id := ps.bridge + "-meta-" + strconv.FormatUint(uint64(w.id), 10) + "-" + strconv.FormatUint(uint64(w.minor), 10)
	b = appendMetaDataHead(b, psMetaHead{MessageID: id, PublisherID: ps.bridge, WriterID: w.id, WriterName: w.name,
		Timestamp: ps.now().UTC()})
	for i, f := range w.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendFieldMetaData(b, psFieldMeta{Name: f.name, Type: f.typ, Array: f.array,
			FieldID: fieldID(w.name, f.name), NodeID: f.nodeID, Server: f.server})
	}
	return appendMetaDataTail(b, w.major, w.minor)
}

// psMetaHead is the header of a "ua-metadata" message.
type psMetaHead struct {
	MessageID, PublisherID string
	WriterID               uint16
	WriterName             string // omitted when ""; also the DataSet's Name
	// Timestamp is when the message was made (Table 165 makes it
	// mandatory; A.3.1's example leaves it out); omitted when zero.
	Timestamp time.Time
}

// appendMetaDataHead appends a metadata message up to its first field.
func appendMetaDataHead(b []byte, h psMetaHead) []byte {
	b = appendString(append(b, `{"MessageId":`...), h.MessageID)
	b = appendString(append(b, `,"MessageType":"ua-metadata","PublisherId":`...), h.PublisherID)
	b = strconv.AppendUint(append(b, `,"DataSetWriterId":`...), uint64(h.WriterID), 10)
	if h.WriterName != "" {
		b = appendString(append(b, `,"DataSetWriterName":`...), h.WriterName)
	}
	if !h.Timestamp.IsZero() {
		b = appendTime(append(b, `,"Timestamp":`...), h.Timestamp)
	}
	if h.WriterName == "" {
		return append(b, `,"MetaData":{"Fields":[`...)
	}
	b = appendString(append(b, `,"MetaData":{"Name":`...), h.WriterName)
	return append(b, `,"Fields":[`...)
}

// appendMetaDataTail closes the fields and the message.
func appendMetaDataTail(b []byte, major, minor uint32) []byte {
	b = strconv.AppendUint(append(b, `],"ConfigurationVersion":{"MajorVersion":`...), uint64(major), 10)
	b = strconv.AppendUint(append(b, `,"MinorVersion":`...), uint64(minor), 10)
	return append(b, "}}}"...)
}

// psFieldMeta is a FieldMetaData to write.
type psFieldMeta struct {
	Name           string
	Type           factorybridge.Type
	Array          bool
	FieldID        string // omitted when ""
	NodeID, Server string // Properties, omitted when both ""
}

// appendFieldMetaData appends a FieldMetaData (6.2.3.2.4), reversible: the
// DataType is the built-in type's namespace 0 NodeId, {"Id": n}.
func appendFieldMetaData(b []byte, f psFieldMeta) []byte {
	rank := "-1"
	if f.Array {
		rank = "1"
	}
	b = appendString(append(b, `{"Name":`...), f.Name)
	b = strconv.AppendUint(append(b, `,"FieldFlags":0,"BuiltInType":`...), uint64(f.Type), 10)
	b = strconv.AppendUint(append(b, `,"DataType":{"Id":`...), uint64(f.Type), 10)
	b = append(append(append(b, `},"ValueRank":`...), rank...), `,"MaxStringLength":0`...)
	if f.FieldID != "" {
		b = appendString(append(b, `,"DataSetFieldId":`...), f.FieldID)
	}
	if f.NodeID != "" || f.Server != "" {
		b = appendString(append(b, `,"Properties":[{"Key":{"Name":"NodeId"},"Value":{"Type":12,"Body":`...), f.NodeID)
		b = appendString(append(b, `}},{"Key":{"Name":"Server"},"Value":{"Type":12,"Body":`...), f.Server)
		b = append(b, "}}]"...)
	}
	return append(b, '}')
}

// fieldID is a field's DataSetFieldId: a name-based Guid (RFC 4122 version
// 5 layout over SHA-1) of the writer's and the field's names, so it stays
// the same across restarts.
func fieldID(writer, field string) string {
	sum := sha1.Sum([]byte(writer + "\x00" + field))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}
