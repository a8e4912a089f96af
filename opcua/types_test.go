package opcua

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

const typesNS = "nsu=urn:factorybridge:types;s=types."

// TestBuiltinTypes subscribes to one node per built-in scalar type and the
// arrays of the simulator and checks each reading's type, value, status and
// timestamps.
func TestBuiltinTypes(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{})
	dateTime := time.Date(2024, 2, 29, 12, 34, 56, 789_000_000, time.UTC)
	want := map[string]fb.Value{
		"Boolean":        fb.BoolValue(true),
		"SByte":          fb.IntValue(fb.TypeSByte, math.MinInt8),
		"Byte":           fb.UintValue(fb.TypeByte, math.MaxUint8),
		"Int16":          fb.IntValue(fb.TypeInt16, math.MinInt16),
		"UInt16":         fb.UintValue(fb.TypeUInt16, math.MaxUint16),
		"Int32":          fb.IntValue(fb.TypeInt32, math.MinInt32),
		"UInt32":         fb.UintValue(fb.TypeUInt32, math.MaxUint32),
		"Int64":          fb.IntValue(fb.TypeInt64, math.MinInt64),
		"UInt64":         fb.UintValue(fb.TypeUInt64, math.MaxUint64),
		"Float":          fb.FloatValue(fb.TypeFloat, math.MaxFloat32),
		"Double":         fb.FloatValue(fb.TypeDouble, math.SmallestNonzeroFloat64),
		"String":         fb.TextValue(fb.TypeString, "Grüße aus der Fabrik 🏭 工場"),
		"DateTime":       fb.TimeValue(dateTime),
		"Guid":           fb.TextValue(fb.TypeGUID, "72962b91-fa75-4ae6-8d28-b404dc7daf63"),
		"ByteString":     fb.TextValue(fb.TypeByteString, "\x00\x01\x7f\x80\xfe\xff"),
		"XmlElement":     fb.TextValue(fb.TypeXMLElement, `<station name="assembly">Grüße</station>`),
		"NodeId":         fb.TextValue(fb.TypeNodeID, "ns=1;i=4294967295"),
		"ExpandedNodeId": fb.TextValue(fb.TypeExpandedNodeID, "nsu=urn:factorybridge:types;s=types.String"),
		"StatusCode":     fb.UintValue(fb.TypeStatusCode, 0x80340000),
		"QualifiedName":  fb.TextValue(fb.TypeQualifiedName, "1:FactoryBridge"),
		"LocalizedText":  fb.TextValue(fb.TypeLocalizedText, "Störung an Station 3"),
		"Int32Array":     fb.ArrayValue(fb.TypeInt32, ints(fb.TypeInt32, 1, 2, 3, 4, 5)),
		"DoubleArray": fb.ArrayValue(fb.TypeDouble, []fb.Value{
			fb.FloatValue(fb.TypeDouble, -1.5), fb.FloatValue(fb.TypeDouble, 0), fb.FloatValue(fb.TypeDouble, 2.25)}),
		"StringArray": fb.ArrayValue(fb.TypeString, []fb.Value{
			fb.TextValue(fb.TypeString, "alpha"), fb.TextValue(fb.TypeString, ""), fb.TextValue(fb.TypeString, "Ωmega")}),
	}
	var ids []string
	for name := range want {
		ids = append(ids, typesNS+name)
	}
	sink, logs := newRecordSink(), &testenv.Logs{}
	c := newClient(t, testOptions(testServer("types", sim.Endpoint, ids...), sink, logs))
	runClient(t, c)

	sink.waitFor(t, 10*time.Second, "a reading of every type", func(rs []fb.Reading) bool {
		return len(distinctNames(rs)) == len(want)
	})
	got := sink.byName()
	for name, wantValue := range want {
		r := got["line/station/"+typesNS+name][0]
		if !reflect.DeepEqual(r.Value, wantValue) {
			t.Errorf("%s: value %#v, want %#v", name, r.Value, wantValue)
		}
		if r.Status != fb.StatusGood || r.SourceTime.IsZero() || r.ServerTime.IsZero() {
			t.Errorf("%s: status %#x, source time %v, server time %v; want Good and both times",
				name, r.Status, r.SourceTime, r.ServerTime)
		}
		if r.NodeID != typesNS+name || r.Server != "types" || r.Line != "line" || r.Station != "station" {
			t.Errorf("%s: reading identity %q %q %q %q", name, r.NodeID, r.Server, r.Line, r.Station)
		}
	}
	if s := c.Stats(); s.ItemsOK != len(want) || s.ItemsFailed != 0 || s.State != StateConnected {
		t.Errorf("stats %+v, want %d items ok, connected", s, len(want))
	}
}

func ints(t fb.Type, vs ...int64) []fb.Value {
	out := make([]fb.Value, len(vs))
	for i, v := range vs {
		out[i] = fb.IntValue(t, v)
	}
	return out
}

func distinctNames(rs []fb.Reading) map[string]bool {
	m := map[string]bool{}
	for _, r := range rs {
		m[r.Name] = true
	}
	return m
}

// TestArrayBound checks that an array longer than MaxArrayLen becomes a Null
// reading with status BadEncodingLimitsExceeded, logged once for the node.
func TestArrayBound(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{})
	sink, logs := newRecordSink(), &testenv.Logs{}
	opts := testOptions(testServer("arrays", sim.Endpoint, typesNS+"Int32Array", typesNS+"DoubleArray"), sink, logs)
	opts.MaxArrayLen = 4 // types.Int32Array has 5 elements, types.DoubleArray 3
	c := newClient(t, opts)
	runClient(t, c)
	sink.waitFor(t, 10*time.Second, "both arrays", func(rs []fb.Reading) bool { return len(distinctNames(rs)) == 2 })

	got := sink.byName()
	long, short := got["line/station/"+typesNS+"Int32Array"][0], got["line/station/"+typesNS+"DoubleArray"][0]
	if long.Status != uint32(ua.StatusBadEncodingLimitsExceeded) || !reflect.DeepEqual(long.Value, fb.Value{}) {
		t.Errorf("5-element array: status %#x, value %#v; want BadEncodingLimitsExceeded and Null", long.Status, long.Value)
	}
	if short.Status != fb.StatusGood || len(short.Value.Elems) != 3 {
		t.Errorf("3-element array: status %#x, value %#v; want Good with 3 elements", short.Status, short.Value)
	}
	recs := logs.Records("value not representable")
	if len(recs) != 1 || recs[0]["node_id"] != typesNS+"Int32Array" {
		t.Errorf("logged %v, want one warning for Int32Array", recs)
	}
}
