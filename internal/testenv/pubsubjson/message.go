// Package pubsubjson reads OPC UA PubSub JSON messages (OPC 10000-14,
// 7.2.5) for tests: the NetworkMessages of DataSetMessages ("ua-data") and
// the DataSetMetaData messages ("ua-metadata"), and, following the mapping
// docs/message-format.md defines for the bridge's "pubsub-json" encoding,
// the readings they carry.
//
// It was written from the specification and that document only, before
// and apart from the encoder in publisher/wire, and shares no code with it:
// a round trip through both checks one against the other.
package pubsubjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Message types of 7.2.5.2 (Table "JSON NetworkMessage MessageType mapping").
const (
	TypeData     = "ua-data"
	TypeMetaData = "ua-metadata"
)

// NetworkMessage is one decoded message: a "ua-data" NetworkMessage
// (7.2.5.3) with its DataSetMessages, or a "ua-metadata" message (7.2.5.5.2)
// in MetaData.
type NetworkMessage struct {
	MessageID   string
	MessageType string
	PublisherID string
	Messages    []DataSetMessage // ua-data
	MetaData    *MetaDataMessage // ua-metadata
}

// DataSetMessage is one JSON DataSetMessage (7.2.5.4): its header fields
// (zero when absent; Has* say which optional ones were present) and its
// Payload fields, undecoded, in the order they appeared.
type DataSetMessage struct {
	WriterID       uint16
	HasWriterID    bool
	WriterName     string
	SequenceNumber uint32
	HasSequence    bool
	MinorVersion   uint32
	Timestamp      time.Time
	Status         uint32
	HasStatus      bool
	MessageType    string
	Fields         []Field // the Payload; nil for a keep-alive
	HasPayload     bool
	Payload        json.RawMessage // the Payload as sent
	// BridgeSeq is the bridge's member beside Part 14's header (object:
	// field → seq; number: the seq of the whole DataSetMessage), raw.
	BridgeSeq json.RawMessage
}

// Field is one DataSet field of a Payload, as sent.
type Field struct {
	Name  string
	Value json.RawMessage
}

// MetaDataMessage is a "ua-metadata" message (7.2.5.5.2).
type MetaDataMessage struct {
	WriterID   uint16
	WriterName string
	MetaData   MetaData
}

// MetaData is a DataSetMetaDataType (6.2.3.2.3) in the reversible JSON
// encoding.
type MetaData struct {
	Name   string
	Fields []FieldMetaData
	Major  uint32 // ConfigurationVersion.MajorVersion
	Minor  uint32 // ConfigurationVersion.MinorVersion
}

// FieldMetaData is a FieldMetaData (6.2.3.2.4).
type FieldMetaData struct {
	Name        string
	BuiltInType byte
	DataType    uint32 // the numeric id of a namespace 0 DataType NodeId
	ValueRank   int32
	FieldID     string            // DataSetFieldId
	Properties  map[string]string // String-valued KeyValuePairs by key name
}

// Parse decodes one message, checking what Part 14 requires of it: a
// MessageId and a known MessageType, a Messages array of DataSetMessages
// for "ua-data", the writer and the metadata for "ua-metadata", and the
// types of every header field.
func Parse(b []byte) (*NetworkMessage, error) {
	var head struct {
		MessageID   *string         `json:"MessageId"`
		MessageType *string         `json:"MessageType"`
		PublisherID *string         `json:"PublisherId"`
		Messages    json.RawMessage `json:"Messages"`
	}
	if err := strictJSON(b, &head); err != nil {
		return nil, fmt.Errorf("network message: %w", err)
	}
	if head.MessageID == nil || *head.MessageID == "" || head.MessageType == nil {
		return nil, errors.New("network message: MessageId and MessageType are mandatory")
	}
	m := &NetworkMessage{MessageID: *head.MessageID, MessageType: *head.MessageType}
	if head.PublisherID != nil {
		m.PublisherID = *head.PublisherID
	}
	switch m.MessageType {
	case TypeData:
		return m, m.parseData(head.Messages)
	case TypeMetaData:
		md, err := parseMetaData(b)
		m.MetaData = md
		return m, err
	}
	return nil, fmt.Errorf("network message: MessageType %q is not %q or %q", m.MessageType, TypeData, TypeMetaData)
}

func (m *NetworkMessage) parseData(raw json.RawMessage) error {
	var msgs []json.RawMessage
	if err := json.Unmarshal(raw, &msgs); err != nil || msgs == nil {
		return errors.New("ua-data: Messages must be a JSON array of DataSetMessages")
	}
	for i, r := range msgs {
		d, err := parseDataSetMessage(r)
		if err != nil {
			return fmt.Errorf("ua-data: DataSetMessage %d: %w", i, err)
		}
		m.Messages = append(m.Messages, d)
	}
	return nil
}

// dsmHeader is the JSON DataSetMessage header (7.2.5.4, Table "JSON
// DataSetMessage definition").
type dsmHeader struct {
	DataSetWriterID   *float64        `json:"DataSetWriterId"`
	DataSetWriterName *string         `json:"DataSetWriterName"`
	SequenceNumber    *float64        `json:"SequenceNumber"`
	MinorVersion      *float64        `json:"MinorVersion"`
	Timestamp         *string         `json:"Timestamp"`
	Status            json.RawMessage `json:"Status"`
	MessageType       *string         `json:"MessageType"`
	Payload           json.RawMessage `json:"Payload"`
	BridgeSeq         json.RawMessage `json:"BridgeSeq"`
}

func parseDataSetMessage(raw json.RawMessage) (DataSetMessage, error) {
	var h dsmHeader
	var d DataSetMessage
	if err := strictJSON(raw, &h); err != nil {
		return d, err
	}
	var err error
	if d.HasWriterID = h.DataSetWriterID != nil; d.HasWriterID {
		d.WriterID, err = uintIn[uint16](*h.DataSetWriterID, "DataSetWriterId")
	}
	if d.HasSequence = h.SequenceNumber != nil; d.HasSequence && err == nil {
		d.SequenceNumber, err = uintIn[uint32](*h.SequenceNumber, "SequenceNumber")
	}
	if h.MinorVersion != nil && err == nil {
		d.MinorVersion, err = uintIn[uint32](*h.MinorVersion, "MinorVersion")
	}
	if d.HasStatus = len(h.Status) > 0; d.HasStatus && err == nil {
		d.Status, err = statusCode(h.Status, "Status")
	}
	if h.Timestamp != nil && err == nil {
		d.Timestamp, err = parseTime(*h.Timestamp, "Timestamp")
	}
	if err != nil {
		return d, err
	}
	if h.DataSetWriterName != nil {
		d.WriterName = *h.DataSetWriterName
	}
	if h.MessageType != nil {
		d.MessageType = *h.MessageType
	}
	d.BridgeSeq, d.Payload = h.BridgeSeq, h.Payload
	if d.HasPayload = len(h.Payload) > 0; d.HasPayload {
		d.Fields, err = objectMembers(h.Payload)
	}
	return d, err
}

// uintIn converts a JSON number to an unsigned integer type, refusing
// fractions and values out of its range.
func uintIn[T uint16 | uint32](f float64, what string) (T, error) {
	var zero T
	if f < 0 || f != math.Trunc(f) || f > float64(^zero) {
		return zero, fmt.Errorf("%s %v is not a %T", what, f, zero)
	}
	return T(f), nil
}

// statusCode reads a StatusCode: a number (reversible, 1.05.03) or an
// object with a Code (non-reversible, and every encoding from 1.05.04).
func statusCode(raw json.RawMessage, what string) (uint32, error) {
	var n float64
	if err := json.Unmarshal(raw, &n); err == nil {
		return uintIn[uint32](n, what)
	}
	var o struct {
		Code *float64 `json:"Code"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return 0, fmt.Errorf("%s %s is not a StatusCode", what, raw)
	}
	if o.Code == nil {
		return 0, nil // Good: the Code is omitted when 0
	}
	return uintIn[uint32](*o.Code, what)
}

// parseTime reads a DateTime (OPC 10000-6, 5.4.2.6: ISO 8601 / RFC 3339).
func parseTime(s, what string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("%s %q is not an ISO 8601 DateTime: %w", what, s, err)
	}
	return t, nil
}

// objectMembers returns the members of a JSON object in their order.
func objectMembers(raw json.RawMessage) ([]Field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("Payload is not a JSON object")
	}
	var out []Field
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("Payload: %w", err)
		}
		name := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("Payload field %q: %w", name, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("Payload field %q twice", name)
		}
		seen[name] = true
		out = append(out, Field{Name: name, Value: v})
	}
	return out, nil
}

// strictJSON decodes one JSON object into v and refuses trailing data.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON object")
	}
	return nil
}
