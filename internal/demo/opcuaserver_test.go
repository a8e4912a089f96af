package demo

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// shared is one demo server for every test that only reads from it:
// gopcua's server.New imports the whole OPC UA base nodeset, which takes
// seconds under the race detector on a loaded machine.
var shared struct {
	once sync.Once
	srv  *OPCUAServer
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Close()
	}
	os.Exit(code)
}

// startServer returns the shared demo server (a fast line, speed 50) and a
// client connected to it that ends with the test.
func startServer(t testing.TB) (*OPCUAServer, *opcua.Client) {
	t.Helper()
	shared.once.Do(func() {
		shared.srv, shared.err = StartOPCUAServer(context.Background(), "127.0.0.1:0", NewLine(1, 50), discardLogger())
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv, connectOPCUA(t, shared.srv.Endpoint)
}

func connectOPCUA(t testing.TB, endpoint string) *opcua.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := opcua.NewClient(endpoint, opcua.SecurityMode(ua.MessageSecurityModeNone), opcua.AutoReconnect(false))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("connect to %s: %v", endpoint, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestOPCUAServerServesEveryVariable(t *testing.T) {
	s, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	idx, err := c.FindNamespace(ctx, NamespaceURI)
	if err != nil || idx != s.NamespaceIndex {
		t.Fatalf("FindNamespace = %d, %v; server says %d", idx, err, s.NamespaceIndex)
	}
	want := NewLine(1, 50).Snapshot()
	var reads []*ua.ReadValueID
	for _, w := range want {
		nid := ua.NewStringNodeID(idx, NodeID(w.Station, w.Variable))
		reads = append(reads,
			&ua.ReadValueID{NodeID: nid, AttributeID: ua.AttributeIDValue},
			&ua.ReadValueID{NodeID: nid, AttributeID: ua.AttributeIDDataType})
	}
	resp, err := c.Read(ctx, &ua.ReadRequest{NodesToRead: reads, TimestampsToReturn: ua.TimestampsToReturnBoth})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		name := NodeID(w.Station, w.Variable)
		val, dt := resp.Results[2*i], resp.Results[2*i+1]
		if val.Status != ua.StatusOK || val.Value == nil {
			t.Errorf("%s: status %v, value %v", name, val.Status, val.Value)
			continue
		}
		if got, want := reflect.TypeOf(val.Value.Value()), reflect.TypeOf(w.Value); got != want {
			t.Errorf("%s: value type %v, want %v", name, got, want)
		}
		if val.SourceTimestamp.IsZero() || val.ServerTimestamp.IsZero() {
			t.Errorf("%s: source time %v, server time %v; want both", name, val.SourceTimestamp, val.ServerTimestamp)
		}
		if got, ok := dt.Value.Value().(*ua.NodeID); !ok || got.IntID() != dataTypeOf(w.Value) {
			t.Errorf("%s: DataType %v, want i=%d", name, dt.Value.Value(), dataTypeOf(w.Value))
		}
	}
}

func TestOPCUAServerNotifiesSubscribers(t *testing.T) {
	s, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	notes := make(chan *opcua.PublishNotificationData, 64)
	sub, err := c.Subscribe(ctx, &opcua.SubscriptionParameters{Interval: 50 * time.Millisecond}, notes)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel(context.Background())
	items := map[uint32]string{1: VarStatus, 2: VarManufactured}
	var reqs []*ua.MonitoredItemCreateRequest
	for h, v := range items {
		nid := ua.NewStringNodeID(s.NamespaceIndex, NodeID(StationAssembly, v))
		reqs = append(reqs, opcua.NewMonitoredItemCreateRequestWithDefaults(nid, ua.AttributeIDValue, h))
	}
	res, err := sub.Monitor(ctx, ua.TimestampsToReturnBoth, reqs...)
	if err != nil || res.Results[0].StatusCode != ua.StatusOK || res.Results[1].StatusCode != ua.StatusOK {
		t.Fatalf("monitor: %v", err)
	}
	// The first notification of each item is its current value; wait for
	// two distinct values of each, i.e. at least one real change.
	seen := map[uint32]map[any]bool{1: {}, 2: {}}
	for len(seen[1]) < 2 || len(seen[2]) < 2 {
		select {
		case <-ctx.Done():
			t.Fatalf("saw only %v before the deadline", seen)
		case n := <-notes:
			if n.Error != nil {
				t.Fatal(n.Error)
			}
			dcn, ok := n.Value.(*ua.DataChangeNotification)
			if !ok {
				continue
			}
			for _, item := range dcn.MonitoredItems {
				seen[item.ClientHandle][item.Value.Value.Value()] = true
			}
		}
	}
}

// The demo config's node ids must name nodes the demo server has.
func TestConfigNodesExistOnServer(t *testing.T) {
	s, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nsArray, err := c.NamespaceArray(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refs := Config(s.Endpoint, "tcp://127.0.0.1:1883", t.TempDir()).Nodes("")
	var reads []*ua.ReadValueID
	for _, ref := range refs {
		eid, err := ua.ParseExpandedNodeID(ref.Node.ID, nsArray)
		if err != nil {
			t.Fatalf("%s: %v", ref.Node.ID, err)
		}
		reads = append(reads, &ua.ReadValueID{NodeID: eid.NodeID, AttributeID: ua.AttributeIDValue})
	}
	resp, err := c.Read(ctx, &ua.ReadRequest{NodesToRead: reads})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resp.Results {
		if r.Status != ua.StatusOK {
			t.Errorf("%s: %v", refs[i].Node.ID, r.Status)
		}
	}
}

func TestOPCUAServerBrowse(t *testing.T) {
	s, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	station := c.Node(ua.NewStringNodeID(s.NamespaceIndex, StationAssembly))
	refs, err := station.ReferencedNodes(ctx, id.HasComponent, ua.BrowseDirectionForward, ua.NodeClassAll, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(refs), len(Variables(StationAssembly)); got != want {
		t.Fatalf("assembly has %d components, want %d", got, want)
	}
}

func TestOPCUAServerRejectsWrites(t *testing.T) {
	s, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Write(ctx, &ua.WriteRequest{NodesToWrite: []*ua.WriteValue{{
		NodeID:      ua.NewStringNodeID(s.NamespaceIndex, NodeID(StationTest, VarStatus)),
		AttributeID: ua.AttributeIDValue,
		Value:       &ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant(int32(4))},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Results[0] != ua.StatusBadUserAccessDenied {
		t.Fatalf("write: %v, want BadUserAccessDenied", resp.Results[0])
	}
}

func TestStartOPCUAServerRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "example.com:4840", "127.0.0.1"} {
		if s, err := StartOPCUAServer(context.Background(), addr, NewLine(1, 1), discardLogger()); err == nil {
			s.Close()
			t.Errorf("StartOPCUAServer(%q) succeeded, want an error", addr)
		}
	}
}

// gopcua's server panics on a publishing interval under 1 ms; ours revises it.
func TestOPCUAServerRevisesTinyPublishingInterval(t *testing.T) {
	_, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, err := c.Subscribe(ctx, &opcua.SubscriptionParameters{Interval: 500 * time.Microsecond},
		make(chan *opcua.PublishNotificationData, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel(context.Background())
	if got := sub.RevisedPublishingInterval; got != 10*time.Millisecond {
		t.Fatalf("revised publishing interval %v, want 10ms", got)
	}
}

func TestClampPublishing(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{0, minPublishingMs}, {0.5, minPublishingMs}, {-1, minPublishingMs}, {math.NaN(), minPublishingMs},
		{200, 200}, {math.Inf(1), maxPublishingMs},
	} {
		if got := clampPublishing(tc.in); got != tc.want {
			t.Errorf("clampPublishing(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// Cancelling ctx stops the simulation only; Close, after the client has
// gone as documented, stops the server, and a second Close is harmless.
func TestOPCUAServerClose(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := StartOPCUAServer(ctx, "127.0.0.1:0", NewLine(2, 50), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	c := connectOPCUA(t, s.Endpoint)
	cancel()
	select {
	case <-s.simDone:
	case <-time.After(5 * time.Second):
		t.Fatal("simulation still running after ctx ended")
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	if _, err := c.Read(rctx, &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{
		NodeID: ua.NewStringNodeID(s.NamespaceIndex, NodeID(StationAssembly, VarStatus)), AttributeID: ua.AttributeIDValue,
	}}}); err != nil {
		t.Fatalf("read after ctx ended: %v (want the server still serving)", err)
	}
	c.Close(rctx)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
