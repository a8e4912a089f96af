package wire

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"factorybridge"
)

// Events (factorybridge.ClassEvent entries of the buffer) travel in
// messages of their own (docs/message-format.md):
//
//	{"v":1,"bridge":…,"type":"event","first":…,"last":…,"count":…,"events":[{"seq":…,…,"fields":{…}},…]}
//
// Each event carries its seq first, where it came from, its time and
// receive time when selected, and the selected fields as the JSON object
// the OPC UA client made of them (the entry's Value).
const eventArrayKey = `,"events":[`

// initEvents prepares the envelope of event messages.
func (p *Packer) initEvents(bridge string) {
	p.evPrefix = append(p.evPrefix, `{"v":1,"bridge":`...)
	p.evPrefix = appendString(p.evPrefix, bridge)
	p.evPrefix = append(p.evPrefix, `,"type":"event","first":`...)
	p.evRoom = p.max - headerReserve(len(p.evPrefix), eventArrayKey)
}

// appendEventRecord appends the event r carries. A value that is not a JSON
// object (a damaged buffer) is replaced by an "error" field rather than
// making the message invalid JSON.
func appendEventRecord(b []byte, r *factorybridge.Reading) []byte {
	b = strconv.AppendUint(append(b, `{"seq":`...), r.Seq, 10)
	b = appendField(b, "name", r.Name)
	b = appendField(b, "source", r.NodeID)
	b = appendField(b, "server", r.Server)
	b = appendField(b, "line", r.Line)
	b = appendField(b, "station", r.Station)
	b = appendTimes(b, `,"time":`, r.SourceTime, `,"receive_time":`, r.ServerTime)
	fields := r.Value.Str
	if len(fields) < 2 || fields[0] != '{' || !json.Valid([]byte(fields)) {
		return append(b, `,"error":"the event's fields are not a JSON object"}`...)
	}
	b = append(append(b, `,"fields":`...), fields...)
	return append(b, '}')
}

// eventJSON is the JSON shape of one event.
type eventJSON struct {
	Seq         uint64          `json:"seq"`
	Name        string          `json:"name"`
	Source      string          `json:"source"`
	Server      string          `json:"server"`
	Line        string          `json:"line"`
	Station     string          `json:"station"`
	Time        time.Time       `json:"time"`
	ReceiveTime time.Time       `json:"receive_time"`
	Fields      json.RawMessage `json:"fields"`
}

// decodeEvents turns the events of an "event" message back into the
// entries the buffer held; the fields are kept as sent.
func decodeEvents(evs []json.RawMessage) ([]factorybridge.Reading, error) {
	out := make([]factorybridge.Reading, 0, len(evs))
	for i, raw := range evs {
		var e eventJSON
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		out = append(out, factorybridge.Reading{Seq: e.Seq, Name: e.Name, NodeID: e.Source, Server: e.Server,
			Line: e.Line, Station: e.Station, SourceTime: e.Time.UTC(), ServerTime: e.ReceiveTime.UTC(),
			Class: factorybridge.ClassEvent, Value: factorybridge.TextValue(factorybridge.TypeString, string(e.Fields))})
	}
	return out, nil
}
