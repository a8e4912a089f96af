package wire

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"factorybridge"
)

// Message is a decoded publisher message (docs/message-format.md).
type Message struct {
	V        int    // format version, 1
	Bridge   string // id of the bridge that sent it
	Type     string // "readings", "oee" or "event"
	Encoding string // "compact" or "flat"; "" for "oee"
	First    uint64 // smallest seq in the message
	Last     uint64 // largest seq in the message
	Count    int    // number of readings
	// Readings in seq order. Values decode to their OPC UA type; invalid
	// UTF-8 replaced on encoding stays replaced, and arrays of Variant
	// decode with the array's type.
	Readings []factorybridge.Reading
	// Records are an "oee" message's records as sent, "seq" included. Its
	// Readings then hold one ClassOEE entry per record: the seq, line,
	// station and the record's JSON without "seq" as a String value.
	Records []json.RawMessage
	// Events are an "event" message's events as sent. Its Readings then
	// hold one ClassEvent entry per event (docs/message-format.md).
	Events []json.RawMessage
}

// envelope is the JSON shape of both encodings.
type envelope struct {
	V        int               `json:"v"`
	Bridge   string            `json:"bridge"`
	Type     string            `json:"type"`
	Encoding string            `json:"encoding"`
	First    uint64            `json:"first"`
	Last     uint64            `json:"last"`
	Count    int               `json:"count"`
	T0       int64             `json:"t0"`
	Nodes    []nodeJSON        `json:"nodes"`
	Readings []readingRaw      `json:"readings"`
	Records  []json.RawMessage `json:"records"`
	Events   []json.RawMessage `json:"events"`
}

type nodeJSON struct {
	Name    string              `json:"name"`
	ID      string              `json:"id"`
	Server  string              `json:"server"`
	Line    string              `json:"line"`
	Station string              `json:"station"`
	Type    string              `json:"type"`
	Mark    string              `json:"mark"`
	Samples [][]json.RawMessage `json:"samples"`
	// BridgeTimes, when present, holds one entry per sample.
	BridgeTimes []json.RawMessage `json:"bridge_times"`
}

type readingRaw struct {
	Seq        uint64          `json:"seq"`
	Name       string          `json:"name"`
	ID         string          `json:"id"`
	Server     string          `json:"server"`
	Line       string          `json:"line"`
	Station    string          `json:"station"`
	Type       string          `json:"type"`
	Value      json.RawMessage `json:"value"`
	Status     uint32          `json:"status"`
	SourceTime time.Time       `json:"source_time"`
	ServerTime time.Time       `json:"server_time"`
	Mark       string          `json:"mark"`
	BridgeTime time.Time       `json:"bridge_time"`
}

// typeByName maps OPC UA type names back to types.
var typeByName = func() map[string]factorybridge.Type {
	m := map[string]factorybridge.Type{}
	for t := factorybridge.TypeNull; t <= factorybridge.TypeDiagnosticInfo; t++ {
		m[t.String()] = t
	}
	return m
}()

// DecodeMessage parses a message the publisher sent. It is for tests and
// consumers written in Go; it checks the envelope against its contents.
func DecodeMessage(b []byte) (*Message, error) {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	if e.V != 1 || (e.Type != "readings" && e.Type != "oee" && e.Type != "event") {
		return nil, fmt.Errorf("decode message: version %d type %q, want 1 and readings, oee or event", e.V, e.Type)
	}
	m := &Message{V: e.V, Bridge: e.Bridge, Type: e.Type, Encoding: e.Encoding,
		First: e.First, Last: e.Last, Count: e.Count}
	var err error
	switch {
	case e.Type == "oee":
		m.Records = e.Records
		m.Readings, err = decodeOEE(e.Records)
	case e.Type == "event":
		m.Events = e.Events
		m.Readings, err = decodeEvents(e.Events)
	case e.Encoding == EncodingCompact:
		m.Readings, err = decodeNodes(e.Nodes, e.First, e.T0)
	case e.Encoding == EncodingFlat:
		m.Readings, err = decodeFlat(e.Readings)
	default:
		err = fmt.Errorf("unknown encoding %q", e.Encoding)
	}
	if err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	slices.SortStableFunc(m.Readings, func(a, b factorybridge.Reading) int { return cmp.Compare(a.Seq, b.Seq) })
	return m, checkEnvelope(m)
}

func checkEnvelope(m *Message) error {
	n := len(m.Readings)
	if n != m.Count || n == 0 || m.Readings[0].Seq != m.First || m.Readings[n-1].Seq != m.Last {
		return fmt.Errorf("decode message: envelope first=%d last=%d count=%d does not match its %d readings",
			m.First, m.Last, m.Count, n)
	}
	return nil
}

func decodeNodes(nodes []nodeJSON, base uint64, t0 int64) ([]factorybridge.Reading, error) {
	var out []factorybridge.Reading
	for _, n := range nodes {
		typ, ok := typeByName[n.Type]
		if !ok {
			return nil, fmt.Errorf("node %s: unknown type %q", n.Name, n.Type)
		}
		class, err := classOfMark(n.Mark)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		if n.BridgeTimes != nil && len(n.BridgeTimes) != len(n.Samples) {
			return nil, fmt.Errorf("node %s: %d bridge times for %d samples", n.Name, len(n.BridgeTimes), len(n.Samples))
		}
		for i, s := range n.Samples {
			r := factorybridge.Reading{Name: n.Name, NodeID: n.ID, Server: n.Server, Class: class}
			r.Line, r.Station = lineAndStation(n.Name)
			err := decodeSample(&r, typ, s, base, t0)
			if err == nil && n.BridgeTimes != nil {
				r.BridgeTime, err = decodeMillis(n.BridgeTimes[i], t0)
			}
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", n.Name, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// decodeSample fills r from [seq-base, source_ms-t0, server_ms-t0, value(, status)].
func decodeSample(r *factorybridge.Reading, typ factorybridge.Type, s []json.RawMessage, base uint64, t0 int64) error {
	if len(s) != 4 && len(s) != 5 {
		return fmt.Errorf("sample has %d elements, want 4 or 5", len(s))
	}
	var err error
	if r.Seq, err = strconv.ParseUint(string(s[0]), 10, 64); err != nil {
		return fmt.Errorf("sample seq: %w", err)
	}
	r.Seq += base
	if r.SourceTime, err = decodeMillis(s[1], t0); err != nil {
		return err
	}
	if r.ServerTime, err = decodeMillis(s[2], t0); err != nil {
		return err
	}
	if r.Value, err = decodeValue(typ, s[3]); err != nil {
		return fmt.Errorf("seq %d: %w", r.Seq, err)
	}
	if len(s) == 5 {
		st, err := strconv.ParseUint(string(s[4]), 10, 32)
		if err != nil {
			return fmt.Errorf("seq %d status: %w", r.Seq, err)
		}
		r.Status = uint32(st)
	}
	return nil
}

func decodeMillis(raw json.RawMessage, t0 int64) (time.Time, error) {
	if string(raw) == "null" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp: %w", err)
	}
	return time.UnixMilli(t0 + ms).UTC(), nil
}

// lineAndStation returns the line and station segments of a reading name
// ([site/]line/station/node).
func lineAndStation(name string) (line, station string) {
	parts := strings.Split(name, "/")
	if n := len(parts); n >= 3 {
		return parts[n-3], parts[n-2]
	}
	return "", ""
}

func decodeFlat(rs []readingRaw) ([]factorybridge.Reading, error) {
	out := make([]factorybridge.Reading, 0, len(rs))
	for _, x := range rs {
		typ, ok := typeByName[x.Type]
		if !ok {
			return nil, fmt.Errorf("seq %d: unknown type %q", x.Seq, x.Type)
		}
		v, err := decodeValue(typ, x.Value)
		if err != nil {
			return nil, fmt.Errorf("seq %d: %w", x.Seq, err)
		}
		class, err := classOfMark(x.Mark)
		if err != nil {
			return nil, fmt.Errorf("seq %d: %w", x.Seq, err)
		}
		out = append(out, factorybridge.Reading{Seq: x.Seq, Name: x.Name, NodeID: x.ID, Server: x.Server,
			Line: x.Line, Station: x.Station, Value: v, Status: x.Status,
			SourceTime: x.SourceTime.UTC(), ServerTime: x.ServerTime.UTC(), BridgeTime: x.BridgeTime.UTC(), Class: class})
	}
	return out, nil
}

// classOfMark is the inverse of markOf.
func classOfMark(mark string) (factorybridge.Class, error) {
	switch mark {
	case "":
		return factorybridge.ClassReading, nil
	case MarkHeartbeat:
		return factorybridge.ClassHeartbeat, nil
	case MarkBackfill:
		return factorybridge.ClassBackfill, nil
	}
	return 0, fmt.Errorf("unknown mark %q", mark)
}

// decodeValue is the inverse of appendValue for a value of type typ.
func decodeValue(typ factorybridge.Type, raw json.RawMessage) (factorybridge.Value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return factorybridge.Value{}, err
		}
		v := factorybridge.ArrayValue(typ, make([]factorybridge.Value, len(elems)))
		for i, e := range elems {
			var err error
			if v.Elems[i], err = decodeScalar(typ, e); err != nil {
				return factorybridge.Value{}, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return v, nil
	}
	return decodeScalar(typ, raw)
}

func decodeScalar(typ factorybridge.Type, raw json.RawMessage) (factorybridge.Value, error) {
	s := string(raw)
	switch typ.Kind() {
	case factorybridge.KindNone:
		if s != "null" {
			return factorybridge.Value{}, fmt.Errorf("null value is %s", s)
		}
		return factorybridge.Value{}, nil
	case factorybridge.KindBool:
		b, err := strconv.ParseBool(s)
		return factorybridge.BoolValue(b), err
	case factorybridge.KindInt:
		i, err := strconv.ParseInt(s, 10, 64)
		return factorybridge.IntValue(typ, i), err
	case factorybridge.KindUint:
		u, err := strconv.ParseUint(s, 10, 64)
		return factorybridge.UintValue(typ, u), err
	case factorybridge.KindFloat:
		f, err := decodeFloat(s, typ == factorybridge.TypeFloat)
		return factorybridge.FloatValue(typ, f), err
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return factorybridge.Value{}, err
	}
	return decodeText(typ, str)
}

func decodeText(typ factorybridge.Type, s string) (factorybridge.Value, error) {
	switch typ.Kind() {
	case factorybridge.KindTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		return factorybridge.TimeValue(t), err
	case factorybridge.KindBytes:
		b, err := base64.StdEncoding.DecodeString(s)
		return factorybridge.TextValue(typ, string(b)), err
	}
	return factorybridge.TextValue(typ, s), nil
}

func decodeFloat(s string, single bool) (float64, error) {
	switch s {
	case `"NaN"`:
		return math.NaN(), nil
	case `"Infinity"`:
		return math.Inf(1), nil
	case `"-Infinity"`:
		return math.Inf(-1), nil
	}
	bits := 64
	if single {
		bits = 32
	}
	return strconv.ParseFloat(s, bits)
}
