package pubsubjson

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	fb "factorybridge"
)

// oeeWriterMark separates an OEE writer's scope from its record kind in
// its name (docs/message-format.md: "{line}[/{station}]#oee-{kind}").
const oeeWriterMark = "#oee-"

// writerKey names a DataSetWriter: its Publisher and id.
type writerKey struct {
	publisher string
	id        uint16
}

// Decoder turns the bridge's pubsub-json messages back into the readings
// and OEE records they carry. It keeps the metadata of every writer, which
// a DataSetMessage needs to be decoded, so it must see a topic's messages
// in order. Not safe for concurrent use.
type Decoder struct {
	meta map[writerKey]*MetaDataMessage
	// Strict requires every DataSetMessage's MinorVersion to be that of
	// the writer's metadata received before it.
	Strict bool
}

// NewDecoder returns a Decoder that has seen no metadata.
func NewDecoder() *Decoder { return &Decoder{meta: map[writerKey]*MetaDataMessage{}, Strict: true} }

// Decode reads one message: a "ua-metadata" message is remembered and
// yields no readings; a "ua-data" message yields its readings and records,
// sorted by seq.
func (d *Decoder) Decode(b []byte) ([]fb.Reading, *NetworkMessage, error) {
	m, err := Parse(b)
	if err != nil {
		return nil, nil, err
	}
	if m.MetaData != nil {
		d.meta[writerKey{m.PublisherID, m.MetaData.WriterID}] = m.MetaData
		return nil, m, nil
	}
	var out []fb.Reading
	for i := range m.Messages {
		rs, err := d.readings(m.PublisherID, &m.Messages[i])
		if err != nil {
			return nil, m, fmt.Errorf("%s: DataSetMessage %d: %w", m.MessageID, i, err)
		}
		out = append(out, rs...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, m, nil
}

// Meta returns the metadata last received for a writer, or nil.
func (d *Decoder) Meta(publisher string, writerID uint16) *MetaDataMessage {
	return d.meta[writerKey{publisher, writerID}]
}

func (d *Decoder) readings(publisher string, m *DataSetMessage) ([]fb.Reading, error) {
	md := d.meta[writerKey{publisher, m.WriterID}]
	switch {
	case !m.HasWriterID:
		return nil, fmt.Errorf("no DataSetWriterId")
	case md == nil:
		return nil, fmt.Errorf("writer %d (%s): no metadata received before its data", m.WriterID, m.WriterName)
	case d.Strict && m.MinorVersion != md.MetaData.Minor:
		return nil, fmt.Errorf("writer %d: MinorVersion %d, the metadata received is %d", m.WriterID, m.MinorVersion, md.MetaData.Minor)
	case md.WriterName != m.WriterName:
		return nil, fmt.Errorf("writer %d: named %q, its metadata %q", m.WriterID, m.WriterName, md.WriterName)
	}
	if strings.Contains(m.WriterName, oeeWriterMark) {
		r, err := oeeRecord(m)
		return []fb.Reading{r}, err
	}
	return stationReadings(md, m)
}

// stationReadings maps a station writer's DataSetMessage back to readings:
// one per field, its name the writer's path and the field's.
func stationReadings(md *MetaDataMessage, m *DataSetMessage) ([]fb.Reading, error) {
	var seqs map[string]uint64
	if err := json.Unmarshal(m.BridgeSeq, &seqs); err != nil {
		return nil, fmt.Errorf("BridgeSeq %s is not an object of seqs: %w", m.BridgeSeq, err)
	}
	line, station := lastTwo(m.WriterName)
	fields := map[string]FieldMetaData{}
	for _, f := range md.MetaData.Fields {
		fields[f.Name] = f
	}
	out := make([]fb.Reading, 0, len(m.Fields))
	for _, field := range m.Fields {
		fm, ok := fields[field.Name]
		seq, hasSeq := seqs[field.Name]
		if !ok || !hasSeq {
			return nil, fmt.Errorf("field %q: in metadata %v, in BridgeSeq %v", field.Name, ok, hasSeq)
		}
		r, err := fieldReading(fm, field.Value)
		if err != nil {
			return nil, err
		}
		r.Seq, r.Name, r.Line, r.Station = seq, m.WriterName+"/"+field.Name, line, station
		out = append(out, r)
	}
	if len(seqs) != len(m.Fields) {
		return nil, fmt.Errorf("BridgeSeq has %d fields, Payload %d", len(seqs), len(m.Fields))
	}
	return out, nil
}

// fieldReading decodes one DataValue field into a reading's value, status,
// timestamps, node id and server.
func fieldReading(fm FieldMetaData, raw json.RawMessage) (fb.Reading, error) {
	dv, err := ParseDataValue(raw)
	if err != nil {
		return fb.Reading{}, fmt.Errorf("field %q: %w", fm.Name, err)
	}
	v, err := Value(fm, dv.Value)
	if err != nil {
		return fb.Reading{}, fmt.Errorf("field %q: %w", fm.Name, err)
	}
	r := fb.Reading{Value: v, Status: dv.StatusCode, NodeID: fm.Properties["NodeId"], Server: fm.Properties["Server"]}
	for _, ts := range []struct {
		s   string
		dst *time.Time
	}{{dv.SourceTimestamp, &r.SourceTime}, {dv.ServerTimestamp, &r.ServerTime}} {
		if ts.s == "" {
			continue
		}
		if *ts.dst, err = parseTime(ts.s, fm.Name+" timestamp"); err != nil {
			return r, err
		}
	}
	return r, nil
}

// lastTwo returns the last two segments of a station's path: its line and
// the station.
func lastTwo(path string) (line, station string) {
	parts := strings.Split(path, "/")
	if len(parts) < 2 {
		return "", path
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}

// oeeRecord maps an OEE writer's DataSetMessage back to the record entry:
// its Payload is the record, BridgeSeq its seq.
func oeeRecord(m *DataSetMessage) (fb.Reading, error) {
	var seq uint64
	if err := json.Unmarshal(m.BridgeSeq, &seq); err != nil {
		return fb.Reading{}, fmt.Errorf("OEE record: BridgeSeq %s is not a seq", m.BridgeSeq)
	}
	var head struct {
		Line    string `json:"line"`
		Station string `json:"station"`
	}
	payload := m.Payload
	if err := json.Unmarshal(payload, &head); err != nil || head.Line == "" {
		return fb.Reading{}, fmt.Errorf("OEE record %d without a line: %s", seq, payload)
	}
	return fb.Reading{Seq: seq, Class: fb.ClassOEE, Line: head.Line, Station: head.Station,
		Name:  fb.OEEName(head.Line, head.Station),
		Value: fb.TextValue(fb.TypeString, string(payload))}, nil
}
