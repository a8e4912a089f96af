package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"factorybridge"
)

// psOEEBody holds the OEE records of one pubsub-json message, each a
// DataSetMessage of its own from the writer of its scope and kind; its
// Payload is the record as oee.Record.MarshalJSON made it
// (DataSetFieldContentMask 0: plain values), its BridgeSeq the seq.
type psOEEBody struct {
	recs  []psRecord
	total int
}

type psRecord struct {
	writer string
	seq    uint64
	json   []byte // the record, a JSON object
	end    time.Time
	fields []psField
}

func (o *psOEEBody) size() int                  { return o.total }
func (o *psOEEBody) appendTo(dst []byte) []byte { return dst }
func (o *psOEEBody) reset(int)                  { o.recs, o.total = o.recs[:0], 0 }

// tryAdd adds r's record when the message then stays within room.
func (o *psOEEBody) tryAdd(r *factorybridge.Reading, room int) bool {
	rec := psParseRecord(r)
	extra := dsmReserve + len(appendString(nil, rec.writer)) + len(rec.json) + len(strconv.FormatUint(r.Seq, 10))
	if o.total+extra > room {
		return false
	}
	o.total += extra
	o.recs = append(o.recs, rec)
	return true
}

// psParseRecord reads what the encoding needs of a record: its writer's
// name (scope and kind), its end, and its fields' types for the metadata.
// A value that is not a JSON object (a damaged buffer) travels as an
// object with an "error" field, as in the "oee" envelope.
func psParseRecord(r *factorybridge.Reading) psRecord {
	rec := psRecord{seq: r.Seq, json: []byte(r.Value.Str)}
	var head struct {
		Kind string    `json:"kind"`
		End  time.Time `json:"end"`
	}
	if len(rec.json) < 2 || rec.json[0] != '{' || !json.Valid(rec.json) || json.Unmarshal(rec.json, &head) != nil {
		rec.json = []byte(`{"error":"the record is not a JSON object"}`)
	}
	rec.writer = factorybridge.OEEName(r.Line, r.Station) + "#oee-" + head.Kind
	rec.end, rec.fields = head.End, recordFields(rec.json)
	return rec
}

// recordFields types a record's members for the metadata by their JSON
// kind: numbers and null (ratios not defined) Double, strings String,
// booleans Boolean, arrays (flags) arrays of String.
func recordFields(obj []byte) []psField {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	var out []psField
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return out
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil || len(v) == 0 {
			return out
		}
		f := psField{name: key.(string), typ: factorybridge.TypeDouble}
		switch v[0] {
		case '"':
			f.typ = factorybridge.TypeString
		case 't', 'f':
			f.typ = factorybridge.TypeBoolean
		case '[', '{':
			f.typ, f.array = factorybridge.TypeString, v[0] == '['
		}
		out = append(out, f)
	}
	return out
}

// finish appends the records' DataSetMessages, updating their writers'
// metadata first.
func (o *psOEEBody) finish(dst []byte, ps *pubsub) []byte {
	for i := range o.recs {
		rec := &o.recs[i]
		w := ps.writer(rec.writer)
		ps.update(w, rec.fields)
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendDataSetMessage(dst, &psDataSetMessage{WriterID: w.id, WriterName: w.name,
			Sequence: w.nextSeq(), MinorVersion: w.minor, Timestamp: headerStamp(rec.end),
			RawPayload: rec.json, BridgeSeq: strconv.AppendUint(nil, rec.seq, 10)})
	}
	return dst
}
