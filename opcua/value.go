package opcua

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/gopcua/opcua/ua"

	"factorybridge"
)

// DefaultMaxArrayLen bounds the elements of one array value. It equals
// gopcua's default decoder limit (ua.MaxVariantArrayLength), at which a
// longer array fails the decoding of the whole response before it reaches
// this package; limits.go raises the decoder's limit so that such an array
// becomes one rejected reading instead.
const DefaultMaxArrayLen = 0xffff

// valueError says why a variant could not be turned into a Value; Status is
// what the reading carries instead of the server's status.
type valueError struct {
	Status ua.StatusCode
	Reason string
}

func (e *valueError) Error() string { return e.Reason }

// Unwrap lets callers test the status with errors.Is.
func (e *valueError) Unwrap() error { return e.Status }

// conversionStatus returns the status of convertValue's error and whether
// it is a *valueError; StatusOK for nil. It runs once per value: nil is
// tested first because errors.As moves its target to the heap.
func conversionStatus(err error) (ua.StatusCode, bool) {
	if err == nil {
		return ua.StatusOK, false
	}
	var ve *valueError
	if errors.As(err, &ve) {
		return ve.Status, true
	}
	return ua.StatusOK, false
}

// convertValue turns an OPC UA variant into a typed Value following the Kind
// rules of factorybridge.Value. Scalars of every built-in type except
// DataValue, Variant and DiagnosticInfo are supported, as are one-dimensional
// arrays of up to maxLen elements and matrices with at most one dimension
// longer than 1 (flattened). Anything else returns a *valueError and a Null
// value. A nil or Null variant is the Null value.
func convertValue(v *ua.Variant, maxLen int) (factorybridge.Value, error) {
	if v == nil || v.Type() == ua.TypeIDNull {
		return factorybridge.Value{}, nil
	}
	t := factorybridge.Type(v.Type()) // the numbering is the same: Part 6, 5.1.2
	if !v.Has(ua.VariantArrayValues) {
		return scalarValue(t, v.Value())
	}
	if err := checkArrayShape(v, maxLen); err != nil {
		return factorybridge.Value{}, err
	}
	return arrayValue(t, reflect.ValueOf(v.Value()))
}

// checkArrayShape rejects arrays longer than maxLen and true matrices.
func checkArrayShape(v *ua.Variant, maxLen int) error {
	if int(v.ArrayLength()) > maxLen {
		return &valueError{ua.StatusBadEncodingLimitsExceeded,
			fmt.Sprintf("array of %d elements exceeds the limit of %d", v.ArrayLength(), maxLen)}
	}
	long := 0
	for _, d := range v.ArrayDimensions() {
		if d > 1 {
			long++
		}
	}
	if long > 1 {
		return &valueError{ua.StatusBadEncodingLimitsExceeded,
			fmt.Sprintf("matrix %v is not supported", v.ArrayDimensions())}
	}
	return nil
}

// arrayValue converts a (possibly nested, for trivial matrices) slice.
func arrayValue(t factorybridge.Type, rv reflect.Value) (factorybridge.Value, error) {
	var elems []factorybridge.Value
	if err := appendElems(t, rv, &elems); err != nil {
		return factorybridge.Value{}, err
	}
	return factorybridge.ArrayValue(t, elems), nil
}

// appendElems flattens rv into elems. A ByteString element is a []byte and
// therefore a slice too, so recursion stops at the element type.
func appendElems(t factorybridge.Type, rv reflect.Value, elems *[]factorybridge.Value) error {
	if !rv.IsValid() {
		return nil // a null array
	}
	for i := 0; i < rv.Len(); i++ {
		e := rv.Index(i)
		if e.Kind() == reflect.Slice && !(t == factorybridge.TypeByteString && e.Type().Elem().Kind() == reflect.Uint8) {
			if err := appendElems(t, e, elems); err != nil {
				return err
			}
			continue
		}
		v, err := scalarValue(t, e.Interface())
		if err != nil {
			return err
		}
		*elems = append(*elems, v)
	}
	return nil
}

// scalarValue converts one decoded scalar of built-in type t.
func scalarValue(t factorybridge.Type, x any) (factorybridge.Value, error) {
	if v, ok := numberValue(t, x); ok {
		return v, nil
	}
	if s, ok := textPayload(x); ok {
		return factorybridge.TextValue(t, s), nil
	}
	switch x := x.(type) {
	case time.Time:
		return factorybridge.TimeValue(x), nil
	case ua.StatusCode:
		return factorybridge.UintValue(t, uint64(x)), nil
	case *ua.ExtensionObject:
		return extensionObjectValue(x)
	}
	return factorybridge.Value{}, &valueError{ua.StatusBadNotSupported,
		fmt.Sprintf("values of type %s (%T) are not supported", t, x)}
}

// numberValue converts Boolean and the integer and floating point types.
func numberValue(t factorybridge.Type, x any) (factorybridge.Value, bool) {
	switch x := x.(type) {
	case bool:
		return factorybridge.BoolValue(x), true
	case int8:
		return factorybridge.IntValue(t, int64(x)), true
	case int16:
		return factorybridge.IntValue(t, int64(x)), true
	case int32:
		return factorybridge.IntValue(t, int64(x)), true
	case int64:
		return factorybridge.IntValue(t, x), true
	case uint8:
		return factorybridge.UintValue(t, uint64(x)), true
	case uint16:
		return factorybridge.UintValue(t, uint64(x)), true
	case uint32:
		return factorybridge.UintValue(t, uint64(x)), true
	case uint64:
		return factorybridge.UintValue(t, x), true
	case float32:
		return factorybridge.FloatValue(t, float64(x)), true
	case float64:
		return factorybridge.FloatValue(t, x), true
	}
	return factorybridge.Value{}, false
}

// textPayload returns the Str payload of the text-like types and ByteString.
// Nil pointers (never produced by gopcua's decoder) become "".
func textPayload(x any) (string, bool) {
	switch x := x.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	case ua.XMLElement:
		return string(x), true
	case *ua.GUID:
		return guidString(x), true
	case *ua.NodeID:
		if x == nil {
			return "", true
		}
		return x.String(), true
	case *ua.ExpandedNodeID:
		return expandedNodeIDString(x), true
	case *ua.QualifiedName:
		if x == nil {
			return "", true
		}
		return fmt.Sprintf("%d:%s", x.NamespaceIndex, x.Name), true
	case *ua.LocalizedText:
		if x == nil {
			return "", true
		}
		return x.Text, true
	}
	return "", false
}

// guidString returns the canonical form 8-4-4-4-12 in lower case (RFC 9562).
func guidString(g *ua.GUID) string {
	if g == nil {
		return ""
	}
	return strings.ToLower(g.String())
}

// expandedNodeIDString formats an ExpandedNodeId as Part 6, 5.3.1.11 does
// (svr=…;nsu=…;<id>). gopcua's String drops the namespace URI and server index.
func expandedNodeIDString(e *ua.ExpandedNodeID) string {
	if e == nil || e.NodeID == nil {
		return ""
	}
	s := e.NodeID.String()
	if e.NamespaceURI != "" {
		if _, ident, ok := strings.Cut(s, ";"); ok && strings.HasPrefix(s, "ns=") {
			s = ident // the URI replaces the index
		}
		s = "nsu=" + uriEscaper.Replace(e.NamespaceURI) + ";" + s
	}
	if e.ServerIndex != 0 {
		s = fmt.Sprintf("svr=%d;%s", e.ServerIndex, s)
	}
	return s
}

// uriEscaper percent-encodes the characters Part 6 reserves in an nsu= URI.
var uriEscaper = strings.NewReplacer("%", "%25", ";", "%3B")

// extensionObjectValue keeps an ExtensionObject opaque: Str holds its whole
// OPC UA binary encoding (Part 6, 5.2.2.15: type id, encoding byte, length,
// body), so the type id travels with the body and a consumer that knows the
// type can decode it. gopcua decodes only the structures it knows and drops
// the body of any other type; such a value keeps its type id and has an empty
// body.
func extensionObjectValue(x *ua.ExtensionObject) (factorybridge.Value, error) {
	if x == nil {
		return factorybridge.Value{Type: factorybridge.TypeExtensionObject}, nil
	}
	eo := *x
	eo.UpdateMask() // an unknown type's body is gone: encode it as empty
	b, err := eo.Encode()
	if err != nil {
		return factorybridge.Value{}, &valueError{ua.StatusBadEncodingError,
			fmt.Sprintf("re-encode extension object %v: %v", x.TypeID, err)}
	}
	return factorybridge.TextValue(factorybridge.TypeExtensionObject, string(b)), nil
}
