package wire

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"factorybridge"
)

// OEE records (factorybridge.ClassOEE entries of the buffer) travel in
// messages of their own, on a topic of their own (mqtt.oee_topic):
//
//	{"v":1,"bridge":…,"type":"oee","first":…,"last":…,"count":…,"records":[{"seq":…,<record>},…]}
//
// Each record is the JSON object oee.Record.MarshalJSON made, with the
// entry's seq put first, so that (bridge, seq) identifies a record as it
// does a reading.
const oeeArrayKey = `,"records":[`

// initOEE prepares the envelope of OEE messages.
func (p *Packer) initOEE(bridge string) {
	p.oeePrefix = append(p.oeePrefix, `{"v":1,"bridge":`...)
	p.oeePrefix = appendString(p.oeePrefix, bridge)
	p.oeePrefix = append(p.oeePrefix, `,"type":"oee","first":`...)
	p.oeeRoom = p.max - headerReserve(len(p.oeePrefix), oeeArrayKey)
}

// appendOEERecord appends the record r carries with "seq" put first. A
// value that is not a JSON object (a damaged buffer) is replaced by an
// "error" field rather than making the message invalid JSON.
func appendOEERecord(b []byte, r *factorybridge.Reading) []byte {
	b = strconv.AppendUint(append(b, `{"seq":`...), r.Seq, 10)
	rec := r.Value.Str
	if len(rec) < 2 || rec[0] != '{' || !json.Valid([]byte(rec)) {
		return append(b, `,"error":"the record is not a JSON object"}`...)
	}
	if rec == "{}" {
		return append(b, '}')
	}
	return append(append(b, ','), rec[1:]...)
}

// decodeOEE turns the records of an "oee" message back into the entries
// the buffer held.
func decodeOEE(recs []json.RawMessage) ([]factorybridge.Reading, error) {
	out := make([]factorybridge.Reading, 0, len(recs))
	for i, raw := range recs {
		var head struct {
			Seq     uint64 `json:"seq"`
			Line    string `json:"line"`
			Station string `json:"station"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		r := factorybridge.Reading{Seq: head.Seq, Line: head.Line, Station: head.Station,
			Name: factorybridge.OEEName(head.Line, head.Station), Class: factorybridge.ClassOEE}
		r.Value = factorybridge.TextValue(factorybridge.TypeString, withoutSeq(raw, head.Seq))
		out = append(out, r)
	}
	return out, nil
}

// withoutSeq removes the leading "seq" field appendOEERecord added.
func withoutSeq(raw json.RawMessage, seq uint64) string {
	lead := `{"seq":` + strconv.FormatUint(seq, 10)
	s := string(raw)
	switch {
	case strings.HasPrefix(s, lead+","):
		return "{" + s[len(lead)+1:]
	case s == lead+"}":
		return "{}"
	}
	return s
}
