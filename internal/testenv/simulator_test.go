//go:build linux

package testenv

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

const (
	nsStation = "http://opcfoundation.org/UA/Station/"
	nsLoad    = "urn:factorybridge:load"
	nsTypes   = "urn:factorybridge:types"

	testTimeout = 30 * time.Second
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a session without security. Auto-reconnect is off so that a
// stopped server shows up as an error instead of a retry loop.
func connect(ctx context.Context, t *testing.T, endpoint string) *opcua.Client {
	t.Helper()
	c, err := opcua.NewClient(endpoint, opcua.SecurityMode(ua.MessageSecurityModeNone),
		opcua.AutoReconnect(false))
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("connect %s: %v", endpoint, err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func namespace(ctx context.Context, t *testing.T, c *opcua.Client, uri string) uint16 {
	t.Helper()
	ns, err := c.FindNamespace(ctx, uri)
	if err != nil {
		t.Fatalf("find namespace %s: %v", uri, err)
	}
	return ns
}

func read(ctx context.Context, t *testing.T, c *opcua.Client, ids ...*ua.NodeID) []*ua.DataValue {
	t.Helper()
	req := &ua.ReadRequest{TimestampsToReturn: ua.TimestampsToReturnBoth}
	for _, id := range ids {
		req.NodesToRead = append(req.NodesToRead, &ua.ReadValueID{NodeID: id, AttributeID: ua.AttributeIDValue})
	}
	res, err := c.Read(ctx, req)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(res.Results) != len(ids) {
		t.Fatalf("read %d nodes: got %d results", len(ids), len(res.Results))
	}
	return res.Results
}

func TestSimulatorNamespacesAndBrowse(t *testing.T) {
	sim := StartSimulator(t, SimOptions{})
	ctx := testContext(t)
	c := connect(ctx, t, sim.Endpoint)
	for _, uri := range []string{nsStation, nsLoad, nsTypes} {
		namespace(ctx, t, c, uri)
	}
	ns := namespace(ctx, t, c, nsStation)
	for station, want := range map[string]int{"assembly": 10, "test": 9, "packaging": 9} { // StopReason included
		refs, err := c.Node(ua.NewStringNodeID(ns, station)).ReferencedNodes(ctx,
			id.HasComponent, ua.BrowseDirectionForward, ua.NodeClassVariable, true)
		if err != nil {
			t.Fatalf("browse %s: %v", station, err)
		}
		if got := len(refs); got != want {
			t.Errorf("station %s has %d variables, want %d", station, got, want)
		}
	}
}

// typeCases lists every types.* node with its built-in type and value, as
// documented in testdata/simulator/README.md.
var typeCases = []struct {
	name string
	typ  ua.TypeID
	want any
}{
	{"Boolean", ua.TypeIDBoolean, true},
	{"SByte", ua.TypeIDSByte, int8(math.MinInt8)},
	{"Byte", ua.TypeIDByte, uint8(math.MaxUint8)},
	{"Int16", ua.TypeIDInt16, int16(math.MinInt16)},
	{"UInt16", ua.TypeIDUint16, uint16(math.MaxUint16)},
	{"Int32", ua.TypeIDInt32, int32(math.MinInt32)},
	{"UInt32", ua.TypeIDUint32, uint32(math.MaxUint32)},
	{"Int64", ua.TypeIDInt64, int64(math.MinInt64)},
	{"UInt64", ua.TypeIDUint64, uint64(math.MaxUint64)},
	{"Float", ua.TypeIDFloat, float32(math.MaxFloat32)},
	{"Double", ua.TypeIDDouble, math.SmallestNonzeroFloat64},
	{"String", ua.TypeIDString, "Grüße aus der Fabrik 🏭 工場"},
	{"DateTime", ua.TypeIDDateTime, time.Date(2024, 2, 29, 12, 34, 56, 789e6, time.UTC)},
	{"Guid", ua.TypeIDGUID, ua.NewGUID("72962B91-FA75-4AE6-8D28-B404DC7DAF63")},
	{"ByteString", ua.TypeIDByteString, []byte{0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF}},
	{"XmlElement", ua.TypeIDXMLElement, ua.XMLElement(`<station name="assembly">Grüße</station>`)},
	{"NodeId", ua.TypeIDNodeID, ua.NewNumericNodeID(1, math.MaxUint32)},
	{"ExpandedNodeId", ua.TypeIDExpandedNodeID, &ua.ExpandedNodeID{NodeID: ua.NewStringNodeID(0, "types.String"), NamespaceURI: nsTypes}},
	{"StatusCode", ua.TypeIDStatusCode, ua.StatusBadNodeIDUnknown},
	{"QualifiedName", ua.TypeIDQualifiedName, &ua.QualifiedName{NamespaceIndex: 1, Name: "FactoryBridge"}},
	{"LocalizedText", ua.TypeIDLocalizedText, &ua.LocalizedText{Locale: "de-DE", Text: "Störung an Station 3"}},
	{"Int32Array", ua.TypeIDInt32, []int32{1, 2, 3, 4, 5}},
	{"DoubleArray", ua.TypeIDDouble, []float64{-1.5, 0, 2.25}},
	{"StringArray", ua.TypeIDString, []string{"alpha", "", "Ωmega"}},
}

// sameValue compares decoded values, ignoring encoding details that gopcua
// keeps in its structs (NodeId encoding masks, LocalizedText masks).
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case *ua.NodeID:
		g, ok := got.(*ua.NodeID)
		return ok && g.String() == w.String()
	case *ua.ExpandedNodeID:
		g, ok := got.(*ua.ExpandedNodeID)
		return ok && g.NamespaceURI == w.NamespaceURI && g.ServerIndex == w.ServerIndex &&
			g.NodeID.Namespace() == w.NodeID.Namespace() && g.NodeID.StringID() == w.NodeID.StringID()
	case *ua.LocalizedText:
		g, ok := got.(*ua.LocalizedText)
		return ok && g.Locale == w.Locale && g.Text == w.Text
	}
	return reflect.DeepEqual(got, want)
}

func TestSimulatorTypeNodes(t *testing.T) {
	sim := StartSimulator(t, SimOptions{})
	ctx := testContext(t)
	c := connect(ctx, t, sim.Endpoint)
	ns := namespace(ctx, t, c, nsTypes)
	var ids []*ua.NodeID
	for _, tc := range typeCases {
		ids = append(ids, ua.NewStringNodeID(ns, "types."+tc.name))
	}
	for i, dv := range read(ctx, t, c, ids...) {
		tc := typeCases[i]
		if dv.Status != ua.StatusOK {
			t.Errorf("types.%s: status %v", tc.name, dv.Status)
			continue
		}
		if got := dv.Value.Type(); got != tc.typ {
			t.Errorf("types.%s: type %v, want %v", tc.name, got, tc.typ)
		}
		if got := dv.Value.Value(); !sameValue(got, tc.want) {
			t.Errorf("types.%s = %#v, want %#v", tc.name, got, tc.want)
		}
	}
}

func TestSimulatorNotReadable(t *testing.T) {
	sim := StartSimulator(t, SimOptions{})
	ctx := testContext(t)
	c := connect(ctx, t, sim.Endpoint)
	node := ua.NewStringNodeID(namespace(ctx, t, c, nsTypes), "types.NotReadable")
	if got := read(ctx, t, c, node)[0].Status; got != ua.StatusBadNotReadable {
		t.Errorf("read types.NotReadable: status %v, want %v", got, ua.StatusBadNotReadable)
	}
	notes := make(chan *opcua.PublishNotificationData, 16)
	sub, err := c.Subscribe(ctx, &opcua.SubscriptionParameters{Interval: 20 * time.Millisecond}, notes)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Cancel(context.Background())
	res, err := sub.Monitor(ctx, ua.TimestampsToReturnBoth,
		opcua.NewMonitoredItemCreateRequestWithDefaults(node, ua.AttributeIDValue, 1))
	if err != nil {
		t.Fatalf("monitor: %v", err)
	}
	// open62541 1.4 creates the item (Good) and reports the error in the
	// item's first notification, which the bridge must treat per node.
	if got := res.Results[0].StatusCode; got != ua.StatusOK {
		t.Fatalf("monitor types.NotReadable: status %v, want Good", got)
	}
	for {
		select {
		case n := <-notes:
			dc, ok := n.Value.(*ua.DataChangeNotification)
			if n.Error != nil || !ok {
				continue
			}
			if got := dc.MonitoredItems[0].Value.Status; got != ua.StatusBadNotReadable {
				t.Errorf("notification for types.NotReadable: status %v, want %v", got, ua.StatusBadNotReadable)
			}
			return
		case <-ctx.Done():
			t.Fatal("no notification for types.NotReadable")
		}
	}
}

// loadSeq checks one load node's notifications: each value must follow the
// previous one by exactly 1, with a later source timestamp.
type loadSeq struct {
	first, last uint64
	lastTime    time.Time
	count       int
}

func (s *loadSeq) add(v uint64, ts time.Time) error {
	if s.count > 0 && v != s.last+1 {
		return errors.New("gap or duplicate")
	}
	if s.count > 0 && !ts.After(s.lastTime) {
		return errors.New("source timestamp not increasing")
	}
	if s.count == 0 {
		s.first = v
	}
	s.last, s.lastTime = v, ts
	s.count++
	return nil
}

// TestSimulatorLoadDeliversEveryValue proves the simulator's central promise
// for the bridge's tests: with sampling interval 0, open62541 samples on every
// write, so a subscriber sees every value of every load node, in order.
func TestSimulatorLoadDeliversEveryValue(t *testing.T) {
	const nodes, rate, seconds = 10, 1000, 2
	sim := StartSimulator(t, SimOptions{LoadNodes: nodes, Rate: rate})
	ctx := testContext(t)
	c := connect(ctx, t, sim.Endpoint)
	ns := namespace(ctx, t, c, nsLoad)

	notes := make(chan *opcua.PublishNotificationData, 256)
	sub, err := c.Subscribe(ctx, &opcua.SubscriptionParameters{Interval: 20 * time.Millisecond}, notes)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Cancel(context.Background())
	var items []*ua.MonitoredItemCreateRequest
	for i := range nodes {
		item := opcua.NewMonitoredItemCreateRequestWithDefaults(
			ua.NewStringNodeID(ns, "load."+strconv.Itoa(i)), ua.AttributeIDValue, uint32(i))
		item.RequestedParameters.QueueSize = 10000
		items = append(items, item)
	}
	res, err := sub.Monitor(ctx, ua.TimestampsToReturnBoth, items...)
	if err != nil {
		t.Fatalf("monitor: %v", err)
	}
	for i, r := range res.Results {
		if r.StatusCode != ua.StatusOK || r.RevisedSamplingInterval != 0 {
			t.Fatalf("load.%d: status %v, revised sampling interval %v; want Good, 0",
				i, r.StatusCode, r.RevisedSamplingInterval)
		}
	}

	seqs := make([]loadSeq, nodes)
	done := func() bool {
		for _, s := range seqs {
			if s.count < rate*seconds {
				return false
			}
		}
		return true
	}
	for !done() {
		select {
		case n := <-notes:
			receiveLoad(t, n, seqs)
		case <-ctx.Done():
			t.Fatalf("timed out: %+v", seqs)
		}
	}
	for i, s := range seqs {
		if got, want := s.count, int(s.last-s.first)+1; got != want {
			t.Errorf("load.%d: %d notifications for values %d..%d", i, got, s.first, s.last)
		}
	}
}

func receiveLoad(t *testing.T, n *opcua.PublishNotificationData, seqs []loadSeq) {
	t.Helper()
	if n.Error != nil {
		t.Fatalf("publish: %v", n.Error)
	}
	dc, ok := n.Value.(*ua.DataChangeNotification)
	if !ok {
		return // keep-alive or status change
	}
	for _, item := range dc.MonitoredItems {
		s := &seqs[item.ClientHandle]
		v, ok := item.Value.Value.Value().(uint64)
		if item.Value.Status != ua.StatusOK || !ok {
			t.Fatalf("load.%d: status %v, value %#v", item.ClientHandle, item.Value.Status, item.Value.Value.Value())
		}
		if err := s.add(v, item.Value.SourceTimestamp); err != nil {
			t.Fatalf("load.%d: %v: %d after %d", item.ClientHandle, err, v, s.last)
		}
	}
}

func TestSimulatorLineProduces(t *testing.T) {
	sim := StartSimulator(t, SimOptions{Seed: 7, Speed: 50})
	ctx := testContext(t)
	c := connect(ctx, t, sim.Endpoint)
	ns := namespace(ctx, t, c, nsStation)
	stations := []string{"assembly", "test", "packaging"}
	good := func() []uint64 {
		var ids []*ua.NodeID
		for _, s := range stations {
			ids = append(ids, ua.NewStringNodeID(ns, s+".NumberOfManufacturedProducts"))
		}
		var out []uint64
		for _, dv := range read(ctx, t, c, ids...) {
			out = append(out, dv.Value.Uint())
		}
		return out
	}
	// Each station makes a product every 0.1-0.3 s at speed 50; poll until
	// every count has grown by 3, without assuming when.
	start := good()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for {
		now, grown := good(), true
		for i := range stations {
			if now[i] < start[i] {
				t.Fatalf("%s count went back: %d -> %d", stations[i], start[i], now[i])
			}
			grown = grown && now[i] >= start[i]+3
		}
		if grown {
			return
		}
		select {
		case <-poll.C:
		case <-ctx.Done():
			t.Fatalf("station counts %v -> %v: not all grew by 3", start, now)
		}
	}
}

func TestSimulatorSeedDeterminesLine(t *testing.T) {
	ideal := func(seed int64) []uint64 {
		sim := StartSimulator(t, SimOptions{Seed: seed})
		ctx := testContext(t)
		c := connect(ctx, t, sim.Endpoint)
		ns := namespace(ctx, t, c, nsStation)
		var out []uint64
		for _, s := range []string{"assembly", "test", "packaging"} {
			v := read(ctx, t, c, ua.NewStringNodeID(ns, s+".IdealCycleTime"))[0].Value.Uint()
			if v < 4000 || v > 11000 {
				t.Errorf("seed %d: %s.IdealCycleTime = %d, want 4000-11000", seed, s, v)
			}
			out = append(out, v)
		}
		return out
	}
	a, b, other := ideal(42), ideal(42), ideal(43)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("seed 42 gave ideal cycle times %v and %v", a, b)
	}
	if reflect.DeepEqual(a, other) {
		t.Errorf("seeds 42 and 43 both gave %v", a)
	}
}

func TestSimulatorIdealCycleTimeWritable(t *testing.T) {
	sim := StartSimulator(t, SimOptions{})
	ctx := testContext(t)
	c := connect(ctx, t, sim.Endpoint)
	node := ua.NewStringNodeID(namespace(ctx, t, c, nsStation), "test.IdealCycleTime")
	res, err := c.Write(ctx, &ua.WriteRequest{NodesToWrite: []*ua.WriteValue{{
		NodeID: node, AttributeID: ua.AttributeIDValue,
		Value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant(uint64(4200))},
	}}})
	if err != nil || res.Results[0] != ua.StatusOK {
		t.Fatalf("write: %v %v", err, res)
	}
	if got := read(ctx, t, c, node)[0].Value.Uint(); got != 4200 {
		t.Errorf("IdealCycleTime = %d after writing 4200", got)
	}
}

func TestSimulatorRestart(t *testing.T) {
	sim := StartSimulator(t, SimOptions{})
	ctx := testContext(t)
	readTypes := func() {
		c := connect(ctx, t, sim.Endpoint)
		node := ua.NewStringNodeID(namespace(ctx, t, c, nsTypes), "types.Int32")
		if got := read(ctx, t, c, node)[0].Value.Int(); got != math.MinInt32 {
			t.Fatalf("types.Int32 = %d", got)
		}
		_ = c.Close(ctx)
	}
	readTypes()
	if err := sim.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := sim.Start(); err != nil {
		t.Fatalf("start after stop: %v", err)
	}
	readTypes()
	sim.Kill()
	if err := sim.Start(); err != nil {
		t.Fatalf("start after kill: %v", err)
	}
	readTypes()
}
