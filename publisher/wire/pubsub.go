package wire

import (
	"encoding/base64"
	"strconv"
	"time"

	"factorybridge"
)

// EncodingPubSubJSON writes OPC UA PubSub JSON NetworkMessages (OPC
// 10000-14 v1.05, 7.2.5; layout A.3.4 JSON-NetworkMessage): one
// DataSetWriter per station, one field per node, DataSetMetaData messages
// when a writer's field set changes (docs/message-format.md).
const EncodingPubSubJSON = "pubsub-json"

// Encodings are the encodings a Packer writes, for validation.
var Encodings = []string{EncodingCompact, EncodingFlat, EncodingPubSubJSON}

// OPC UA StatusCode severities: the top two bits.
const (
	statusUncertain uint32 = 0x40000000
	statusBad       uint32 = 0x80000000
)

// psMessage is the header of a "ua-data" NetworkMessage (7.2.5.3).
type psMessage struct {
	MessageID   string
	PublisherID string
}

// appendNetworkMessageHead appends a NetworkMessage up to its first
// DataSetMessage: MessageId, MessageType "ua-data", PublisherId, Messages.
func appendNetworkMessageHead(b []byte, m psMessage) []byte {
	b = appendString(append(b, `{"MessageId":`...), m.MessageID)
	b = append(b, `,"MessageType":"ua-data"`...)
	if m.PublisherID != "" {
		b = appendString(append(b, `,"PublisherId":`...), m.PublisherID)
	}
	return append(b, `,"Messages":[`...)
}

// networkMessageTail closes what appendNetworkMessageHead opened.
const networkMessageTail = "]}"

// psDataSetMessage is a DataSetMessage's header (7.2.5.4) and its payload
// and BridgeSeq, already encoded.
type psDataSetMessage struct {
	WriterID     uint16
	WriterName   string // omitted when ""
	Sequence     uint32
	MinorVersion uint32
	Timestamp    time.Time // omitted when zero
	Status       uint32    // omitted when Good (0)
	// Payload is the Payload object's members, `"name":value,…`.
	Payload []byte
	// BridgeSeq is the value of the bridge's BridgeSeq member (an object's
	// members when BridgeSeqObject), omitted when nil.
	BridgeSeq       []byte
	BridgeSeqObject bool
	// RawPayload, when set, is the whole Payload value (a JSON object).
	RawPayload []byte
}

// appendDataSetMessage appends one DataSetMessage. Header fields follow the
// order of Part 14's table (7.2.5.4) and are encoded reversibly: Status is
// a number.
func appendDataSetMessage(b []byte, d *psDataSetMessage) []byte {
	b = strconv.AppendUint(append(b, `{"DataSetWriterId":`...), uint64(d.WriterID), 10)
	if d.WriterName != "" {
		b = appendString(append(b, `,"DataSetWriterName":`...), d.WriterName)
	}
	b = strconv.AppendUint(append(b, `,"SequenceNumber":`...), uint64(d.Sequence), 10)
	b = strconv.AppendUint(append(b, `,"MinorVersion":`...), uint64(d.MinorVersion), 10)
	if !d.Timestamp.IsZero() {
		b = appendTime(append(b, `,"Timestamp":`...), d.Timestamp)
	}
	if d.Status != 0 {
		b = strconv.AppendUint(append(b, `,"Status":`...), uint64(d.Status), 10)
	}
	if d.RawPayload != nil {
		b = append(append(b, `,"Payload":`...), d.RawPayload...)
	} else {
		b = append(append(append(b, `,"Payload":{`...), d.Payload...), '}')
	}
	switch {
	case d.BridgeSeq == nil:
	case d.BridgeSeqObject:
		b = append(append(append(b, `,"BridgeSeq":{`...), d.BridgeSeq...), '}')
	default:
		b = append(append(b, `,"BridgeSeq":`...), d.BridgeSeq...)
	}
	return append(b, '}')
}

// appendMember appends `,"name":` (without the comma when first).
func appendMember(b []byte, name string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	return append(appendString(b, name), ':')
}

// appendDataValue appends a reading as a DataValue (DataSetFieldContentMask
// StatusCode, SourceTimestamp and ServerTimestamp; OPC 10000-6 5.4.2.18,
// non-reversible): members at their default (null value, Good status, no
// timestamp) are omitted.
func appendDataValue(b []byte, r *factorybridge.Reading) []byte {
	b = append(b, '{')
	first := true
	if r.Value.Type != factorybridge.TypeNull || r.Value.Array {
		b = appendPSValue(append(b, `"Value":`...), &r.Value)
		first = false
	}
	if r.Status != factorybridge.StatusGood {
		b = appendStatusCode(appendMember(b, "StatusCode", first), r.Status)
		first = false
	}
	if !r.SourceTime.IsZero() {
		b = appendTime(appendMember(b, "SourceTimestamp", first), r.SourceTime)
		first = false
	}
	if !r.ServerTime.IsZero() {
		b = appendTime(appendMember(b, "ServerTimestamp", first), r.ServerTime)
	}
	return append(b, '}')
}

// appendPSValue appends a value in the non-reversible JSON encoding of OPC
// 10000-6 (5.4): arrays element by element, each by its own type.
func appendPSValue(b []byte, v *factorybridge.Value) []byte {
	if !v.Array {
		return appendPSScalar(b, v)
	}
	b = append(b, '[')
	for i := range v.Elems {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPSScalar(b, &v.Elems[i])
	}
	return append(b, ']')
}

// appendPSScalar differs from appendScalar where OPC UA JSON does: Int64
// and UInt64 are strings (5.4.2.3), a StatusCode is an object, and an
// integer is written at its type's width, so that it is in its type's
// range even from a damaged buffer.
func appendPSScalar(b []byte, v *factorybridge.Value) []byte {
	switch v.Type {
	case factorybridge.TypeSByte:
		return strconv.AppendInt(b, int64(int8(v.Bits)), 10)
	case factorybridge.TypeInt16:
		return strconv.AppendInt(b, int64(int16(v.Bits)), 10)
	case factorybridge.TypeInt32:
		return strconv.AppendInt(b, int64(int32(v.Bits)), 10)
	case factorybridge.TypeByte:
		return strconv.AppendUint(b, uint64(uint8(v.Bits)), 10)
	case factorybridge.TypeUInt16:
		return strconv.AppendUint(b, uint64(uint16(v.Bits)), 10)
	case factorybridge.TypeUInt32:
		return strconv.AppendUint(b, uint64(uint32(v.Bits)), 10)
	case factorybridge.TypeInt64:
		return append(strconv.AppendInt(append(b, '"'), int64(v.Bits), 10), '"')
	case factorybridge.TypeUInt64:
		return append(strconv.AppendUint(append(b, '"'), v.Bits, 10), '"')
	case factorybridge.TypeStatusCode:
		return appendStatusCode(b, uint32(v.Bits))
	}
	if v.Type.Kind() == factorybridge.KindBytes {
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, []byte(v.Str))
		return append(b, '"')
	}
	return appendScalar(b, v)
}

// appendStatusCode appends a StatusCode, non-reversible: its Code and, for
// the generic codes of each severity, its Symbol.
func appendStatusCode(b []byte, code uint32) []byte {
	b = strconv.AppendUint(append(b, `{"Code":`...), uint64(code), 10)
	switch code {
	case 0:
		b = append(b, `,"Symbol":"Good"`...)
	case statusUncertain:
		b = append(b, `,"Symbol":"Uncertain"`...)
	case statusBad:
		b = append(b, `,"Symbol":"Bad"`...)
	}
	return append(b, '}')
}

// severityStatus is the DataSetMessage Status that stands for a value's
// status: 0 when Good, else the generic code of its severity.
func severityStatus(status uint32) uint32 {
	switch status >> 30 {
	case 0:
		return 0
	case 1:
		return statusUncertain
	}
	return statusBad
}
