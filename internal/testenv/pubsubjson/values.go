package pubsubjson

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	fb "factorybridge"
)

// DataValue is a DataSet field sent as a DataValue (DataSetFieldContentMask
// with StatusCode and timestamps; OPC 10000-6 5.4.2.18, non-reversible).
type DataValue struct {
	Value           json.RawMessage // absent: a null value
	StatusCode      uint32
	SourceTimestamp string
	ServerTimestamp string
}

// ParseDataValue reads a DataValue object.
func ParseDataValue(raw json.RawMessage) (DataValue, error) {
	var dv struct {
		Value           json.RawMessage `json:"Value"`
		StatusCode      json.RawMessage `json:"StatusCode"`
		SourceTimestamp string          `json:"SourceTimestamp"`
		ServerTimestamp string          `json:"ServerTimestamp"`
	}
	if err := json.Unmarshal(raw, &dv); err != nil {
		return DataValue{}, fmt.Errorf("DataValue: %w", err)
	}
	out := DataValue{Value: dv.Value, SourceTimestamp: dv.SourceTimestamp, ServerTimestamp: dv.ServerTimestamp}
	if len(dv.StatusCode) > 0 {
		code, err := statusCode(dv.StatusCode, "StatusCode")
		if err != nil {
			return out, err
		}
		out.StatusCode = code
	}
	return out, nil
}

// Value decodes a field value in the non-reversible encoding of OPC
// 10000-6 (5.4) by the field's metadata: an array when its ValueRank is 1,
// else a scalar of its BuiltInType. null or an absent value is a Null value.
func Value(f FieldMetaData, raw json.RawMessage) (fb.Value, error) {
	t := fb.Type(f.BuiltInType)
	if len(raw) == 0 || string(raw) == "null" {
		return fb.Value{Type: fb.TypeNull}, nil
	}
	if f.ValueRank != 1 {
		return scalar(t, raw)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return fb.Value{}, fmt.Errorf("field %q: an array field's value is not a JSON array", f.Name)
	}
	out := make([]fb.Value, len(elems))
	for i, e := range elems {
		v, err := scalar(t, e)
		if err != nil {
			return fb.Value{}, fmt.Errorf("field %q element %d: %w", f.Name, i, err)
		}
		out[i] = v
	}
	return fb.ArrayValue(t, out), nil
}

// scalar decodes one value of built-in type t.
func scalar(t fb.Type, raw json.RawMessage) (fb.Value, error) {
	switch t {
	case fb.TypeBoolean:
		var b bool
		err := json.Unmarshal(raw, &b)
		return fb.BoolValue(b), err
	case fb.TypeSByte, fb.TypeInt16, fb.TypeInt32, fb.TypeByte, fb.TypeUInt16, fb.TypeUInt32:
		return smallInteger(t, raw)
	case fb.TypeInt64, fb.TypeUInt64:
		return bigInteger(t, raw)
	case fb.TypeFloat, fb.TypeDouble:
		return float(t, raw)
	case fb.TypeDateTime:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fb.Value{}, fmt.Errorf("DateTime %s: %w", raw, err)
		}
		tm, err := parseTime(s, "DateTime")
		return fb.TimeValue(tm), err
	case fb.TypeByteString, fb.TypeExtensionObject:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fb.Value{}, fmt.Errorf("%s %s: %w", t, raw, err)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		return fb.TextValue(t, string(b)), err
	case fb.TypeStatusCode:
		code, err := statusCode(raw, "StatusCode value")
		return fb.UintValue(t, uint64(code)), err
	case fb.TypeVariant:
		return variant(raw)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return fb.Value{}, fmt.Errorf("%s %s is not a JSON string", t, raw)
	}
	return fb.TextValue(t, s), nil
}

// integerRange is the range of each integer type of up to 32 bits.
var integerRange = map[fb.Type][2]float64{
	fb.TypeSByte: {math.MinInt8, math.MaxInt8}, fb.TypeInt16: {math.MinInt16, math.MaxInt16},
	fb.TypeInt32: {math.MinInt32, math.MaxInt32}, fb.TypeByte: {0, math.MaxUint8},
	fb.TypeUInt16: {0, math.MaxUint16}, fb.TypeUInt32: {0, math.MaxUint32},
}

// smallInteger reads an integer of up to 32 bits: a JSON number.
func smallInteger(t fb.Type, raw json.RawMessage) (fb.Value, error) {
	var f float64
	r := integerRange[t]
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) || f < r[0] || f > r[1] {
		return fb.Value{}, fmt.Errorf("%s %s is not a JSON number in its range", t, raw)
	}
	if t == fb.TypeByte || t == fb.TypeUInt16 || t == fb.TypeUInt32 {
		return fb.UintValue(t, uint64(f)), nil
	}
	return fb.IntValue(t, int64(f)), nil
}

// bigInteger reads an Int64 or UInt64: a JSON string of its decimal digits
// (OPC 10000-6, 5.4.2.3).
func bigInteger(t fb.Type, raw json.RawMessage) (fb.Value, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return fb.Value{}, fmt.Errorf("%s %s is not a JSON string", t, raw)
	}
	if t == fb.TypeUInt64 {
		n, err := strconv.ParseUint(s, 10, 64)
		return fb.UintValue(t, n), err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return fb.IntValue(t, n), err
}

// float reads a Float or Double: a JSON number, or the strings "NaN",
// "Infinity" and "-Infinity" (OPC 10000-6, 5.4.2.4). A Float is 32 bits.
func float(t fb.Type, raw json.RawMessage) (fb.Value, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return fb.Value{}, fmt.Errorf("%s %s is not a JSON number", t, raw)
		}
		switch s {
		case "NaN":
			f = math.NaN()
		case "Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		default:
			return fb.Value{}, fmt.Errorf("%s %q is not a number", t, s)
		}
	}
	if t == fb.TypeFloat {
		f = float64(float32(f))
	}
	return fb.FloatValue(t, f), nil
}

// variant reads a value of a Variant field, whose type the metadata does
// not give: by its JSON kind.
func variant(raw json.RawMessage) (fb.Value, error) {
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		return fb.Value{}, err
	}
	switch x := x.(type) {
	case bool:
		return fb.BoolValue(x), nil
	case float64:
		return fb.FloatValue(fb.TypeDouble, x), nil
	case string:
		return fb.TextValue(fb.TypeString, x), nil
	}
	return fb.TextValue(fb.TypeString, string(raw)), nil
}
