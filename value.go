package factorybridge

import (
	"math"
	"time"
)

// Type is an OPC UA built-in type id (Part 6, 5.1.2); the numbers match the
// standard so they can be stored and sent as is.
type Type uint8

// The OPC UA built-in types.
const (
	TypeNull            Type = 0
	TypeBoolean         Type = 1
	TypeSByte           Type = 2
	TypeByte            Type = 3
	TypeInt16           Type = 4
	TypeUInt16          Type = 5
	TypeInt32           Type = 6
	TypeUInt32          Type = 7
	TypeInt64           Type = 8
	TypeUInt64          Type = 9
	TypeFloat           Type = 10
	TypeDouble          Type = 11
	TypeString          Type = 12
	TypeDateTime        Type = 13
	TypeGUID            Type = 14
	TypeByteString      Type = 15
	TypeXMLElement      Type = 16
	TypeNodeID          Type = 17
	TypeExpandedNodeID  Type = 18
	TypeStatusCode      Type = 19
	TypeQualifiedName   Type = 20
	TypeLocalizedText   Type = 21
	TypeExtensionObject Type = 22
	TypeDataValue       Type = 23
	TypeVariant         Type = 24
	TypeDiagnosticInfo  Type = 25
)

var typeNames = [...]string{
	"Null", "Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32",
	"Int64", "UInt64", "Float", "Double", "String", "DateTime", "Guid",
	"ByteString", "XmlElement", "NodeId", "ExpandedNodeId", "StatusCode",
	"QualifiedName", "LocalizedText", "ExtensionObject", "DataValue",
	"Variant", "DiagnosticInfo",
}

// String returns the OPC UA name of the type ("Double", "UInt64", …).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Unknown"
}

// Kind says which field of a Value carries the payload of a type.
type Kind uint8

// Payload kinds.
const (
	KindNone  Kind = iota // Null: no payload
	KindBool              // Bits is 0 or 1
	KindInt               // Bits is an int64 in two's complement
	KindUint              // Bits is a uint64
	KindFloat             // Bits is math.Float64bits of the value (Float is widened)
	KindTime              // Bits is an int64 of OPC UA ticks (100 ns since 1601-01-01 UTC)
	KindText              // Str is UTF-8 text (or an encoded id for NodeId and friends)
	KindBytes             // Str holds raw bytes (ByteString, undecoded ExtensionObject body)
)

// Kind returns where the payload of a value of type t lives.
func (t Type) Kind() Kind {
	switch t {
	case TypeBoolean:
		return KindBool
	case TypeSByte, TypeInt16, TypeInt32, TypeInt64:
		return KindInt
	case TypeByte, TypeUInt16, TypeUInt32, TypeUInt64, TypeStatusCode:
		return KindUint
	case TypeFloat, TypeDouble:
		return KindFloat
	case TypeDateTime:
		return KindTime
	case TypeByteString, TypeExtensionObject:
		return KindBytes
	case TypeNull:
		return KindNone
	default:
		return KindText
	}
}

// Value is a typed OPC UA value held without allocation for scalars: numbers
// in Bits, text and bytes in Str, array elements in Elems. The zero Value is
// Null.
type Value struct {
	// Type is the built-in type of the scalar, or of every element of an array.
	Type Type
	// Array is true when the value is a one-dimensional array held in Elems.
	Array bool
	// Bits is the numeric payload; see Kind for its meaning per type.
	Bits uint64
	// Str is the text or byte payload; see Kind.
	Str string
	// Elems are an array's elements, each a scalar of Type.
	Elems []Value
}

// BoolValue returns a Boolean value.
func BoolValue(b bool) Value {
	if b {
		return Value{Type: TypeBoolean, Bits: 1}
	}
	return Value{Type: TypeBoolean}
}

// IntValue returns a signed integer value of type t (SByte … Int64).
func IntValue(t Type, v int64) Value { return Value{Type: t, Bits: uint64(v)} }

// UintValue returns an unsigned value of type t (Byte … UInt64, StatusCode).
func UintValue(t Type, v uint64) Value { return Value{Type: t, Bits: v} }

// FloatValue returns a Float or Double value.
func FloatValue(t Type, v float64) Value { return Value{Type: t, Bits: math.Float64bits(v)} }

// TextValue returns a value whose payload is text or bytes (String, Guid, …).
func TextValue(t Type, s string) Value { return Value{Type: t, Str: s} }

// TimeValue returns a DateTime value.
func TimeValue(tm time.Time) Value { return Value{Type: TypeDateTime, Bits: uint64(TimeToTicks(tm))} }

// ArrayValue returns an array of elements of type t.
func ArrayValue(t Type, elems []Value) Value { return Value{Type: t, Array: true, Elems: elems} }

// Bool returns the payload of a Boolean.
func (v Value) Bool() bool { return v.Bits != 0 }

// Int returns the payload of a signed integer.
func (v Value) Int() int64 { return int64(v.Bits) }

// Uint returns the payload of an unsigned integer.
func (v Value) Uint() uint64 { return v.Bits }

// Float returns the payload of a Float or Double.
func (v Value) Float() float64 { return math.Float64frombits(v.Bits) }

// Time returns the payload of a DateTime.
func (v Value) Time() time.Time { return TicksToTime(int64(v.Bits)) }

// ticksToUnixEpoch is the number of 100 ns ticks between 1601-01-01 and 1970-01-01.
const ticksToUnixEpoch = 116444736000000000

// TimeToTicks converts a time to OPC UA DateTime ticks; the zero time is 0.
func TimeToTicks(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()*1e7 + int64(t.Nanosecond())/100 + ticksToUnixEpoch
}

// TicksToTime converts OPC UA DateTime ticks to a UTC time; 0 is the zero time.
func TicksToTime(ticks int64) time.Time {
	if ticks == 0 {
		return time.Time{}
	}
	d := ticks - ticksToUnixEpoch
	sec, rem := d/1e7, d%1e7
	if rem < 0 {
		sec, rem = sec-1, rem+1e7
	}
	return time.Unix(sec, rem*100).UTC()
}
