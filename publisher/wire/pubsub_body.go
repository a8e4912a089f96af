package wire

import (
	"strconv"
	"strings"
	"time"

	"factorybridge"
)

// dsmReserve is what a DataSetMessage's header adds to its payload at most,
// but for the writer's name: the members with their widest values, the
// Timestamp at maxTimestamp, the brackets of Payload and BridgeSeq and the
// comma before the next DataSetMessage.
var dsmReserve = len(`{"DataSetWriterId":65535,"DataSetWriterName":,"SequenceNumber":4294967295,"MinorVersion":4294967295`) +
	len(`,"Timestamp":`) + maxTimestamp + len(`,"Status":2147483648,"Payload":{},"BridgeSeq":{}},`)

// maxTimestamp is the longest Timestamp a header carries, quoted:
// "9999-12-31T23:59:59.9999999Z". A later one is left out.
const maxTimestamp = 30

// psBody holds the readings of one pubsub-json message: per station
// writer, its DataSetMessages (rounds), the k-th holding each node's k-th
// reading in the message.
type psBody struct {
	writers []*psWriterBuf
	byName  map[string]int
	total   int // bytes the DataSetMessages take between the array brackets
}

// psWriterBuf is one writer's part of a message.
type psWriterBuf struct {
	name   string
	rounds []*psRound
	count  map[string]int       // readings of each field so far
	types  map[string]fieldType // the type of each field's values in the message
}

// fieldType is a field's type as the metadata gives it.
type fieldType struct {
	typ   factorybridge.Type
	array bool
}

// psRound is one DataSetMessage being filled.
type psRound struct {
	payload []byte // `"field":{DataValue},…`
	seqs    []byte // `"field":seq,…`
	fields  []psField
	stamp   time.Time // the latest ServerTimestamp, else SourceTimestamp
	server  bool      // stamp is a ServerTimestamp
	status  uint32    // the worst severity so far
}

func newPSBody() *psBody { return &psBody{byName: map[string]int{}} }

func (p *psBody) size() int { return p.total }

func (p *psBody) reset(int) {
	p.writers, p.total = p.writers[:0], 0
	clear(p.byName)
}

// splitName is a reading's station path and node name.
func splitName(name string) (writer, field string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return name, name
	}
	return name[:i], name[i+1:]
}

// tryAdd places r in its writer's next DataSetMessage for its node, when
// the message then stays within room.
func (p *psBody) tryAdd(r *factorybridge.Reading, room int) bool {
	wname, field := splitName(r.Name)
	wi, hadWriter := p.byName[wname]
	if !hadWriter {
		wi = len(p.writers)
		p.writers = append(p.writers, &psWriterBuf{name: wname, count: map[string]int{}, types: map[string]fieldType{}})
		p.byName[wname] = wi
	}
	w := p.writers[wi]
	ft := fieldType{r.Value.Type, r.Value.Array}
	if old, ok := w.types[field]; ok && ft.typ != factorybridge.TypeNull && old != ft {
		// The metadata gives a field one type: a value of another type
		// goes in the next message, after the metadata that says so.
		return false
	}
	k := w.count[field]
	extra, newRound := 0, k == len(w.rounds)
	if newRound {
		w.rounds = append(w.rounds, &psRound{})
		extra = dsmReserve + len(appendString(nil, wname))
	}
	rd := w.rounds[k]
	pMark, sMark := len(rd.payload), len(rd.seqs)
	rd.payload = appendDataValue(appendMember(rd.payload, field, pMark == 0), r)
	rd.seqs = strconv.AppendUint(appendMember(rd.seqs, field, sMark == 0), r.Seq, 10)
	extra += len(rd.payload) - pMark + len(rd.seqs) - sMark
	if p.total+extra > room {
		p.undo(wi, hadWriter, rd, newRound, pMark, sMark)
		return false
	}
	p.total += extra
	w.count[field] = k + 1
	if ft.typ != factorybridge.TypeNull {
		w.types[field] = ft
	}
	rd.fields = append(rd.fields, psField{name: field, typ: r.Value.Type, array: r.Value.Array, nodeID: r.NodeID, server: r.Server})
	rd.note(r)
	return true
}

// undo takes back what tryAdd added.
func (p *psBody) undo(wi int, hadWriter bool, rd *psRound, newRound bool, pMark, sMark int) {
	w := p.writers[wi]
	rd.payload, rd.seqs = rd.payload[:pMark], rd.seqs[:sMark]
	if newRound {
		w.rounds = w.rounds[:len(w.rounds)-1]
	}
	if !hadWriter {
		p.writers = p.writers[:wi]
		delete(p.byName, w.name)
	}
}

// note updates the round's Timestamp and Status with r.
func (rd *psRound) note(r *factorybridge.Reading) {
	switch {
	case !r.ServerTime.IsZero() && (!rd.server || r.ServerTime.After(rd.stamp)):
		rd.stamp, rd.server = r.ServerTime, true
	case r.ServerTime.IsZero() && !rd.server && r.SourceTime.After(rd.stamp):
		rd.stamp = r.SourceTime
	}
	rd.status = max(rd.status, severityStatus(r.Status))
}

// appendTo is not used: a pubsub-json message is assembled by finish,
// which needs the Packer's writers.
func (p *psBody) appendTo(dst []byte) []byte { return dst }

// finish appends the body's DataSetMessages: it first updates each
// writer's metadata (queueing the metadata messages), then numbers the
// DataSetMessages.
func (p *psBody) finish(dst []byte, ps *pubsub) []byte {
	for i, wb := range p.writers {
		w := ps.writer(wb.name)
		for _, rd := range wb.rounds {
			ps.update(w, rd.fields)
		}
		for j, rd := range wb.rounds {
			if i+j > 0 {
				dst = append(dst, ',')
			}
			dst = appendDataSetMessage(dst, &psDataSetMessage{WriterID: w.id, WriterName: w.name,
				Sequence: w.nextSeq(), MinorVersion: w.minor, Timestamp: headerStamp(rd.stamp), Status: rd.status,
				Payload: rd.payload, BridgeSeq: rd.seqs, BridgeSeqObject: true})
		}
	}
	return dst
}

// headerStamp is t, or zero when it would not fit the header's reserve.
func headerStamp(t time.Time) time.Time {
	if t.IsZero() || len(appendTime(nil, t)) > maxTimestamp {
		return time.Time{}
	}
	return t
}
