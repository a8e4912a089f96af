package opcua

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	"factorybridge/config"
)

func TestNewRejects(t *testing.T) {
	srv := testServer("s", "opc.tcp://127.0.0.1:4840")
	good := nodeRefs(srv, "ns=1;s=a")
	tests := []struct {
		name   string
		srv    func(*config.Server)
		node   func(*config.Node)
		noSink bool
		want   string
	}{
		{name: "no sink", noSink: true, want: "Sink is required"},
		{name: "bad id", node: func(n *config.Node) { n.ID = "ns=x;s=a" }, want: `node line/station/ns=1;s=a: id "ns=x;s=a"`},
		{name: "bad nsu id", node: func(n *config.Node) { n.ID = "nsu=urn:a;i=x" }, want: `id "nsu=urn:a;i=x"`},
		{name: "trigger", node: func(n *config.Node) { n.Trigger = "value" }, want: `unknown trigger "value"`},
		{name: "deadband", node: func(n *config.Node) { n.Deadband = "relative" }, want: `unknown deadband "relative"`},
		{name: "policy", srv: func(s *config.Server) { s.SecurityPolicy = "Basic512" }, want: `security_policy "Basic512"`},
		{name: "mode", srv: func(s *config.Server) { s.SecurityMode = "Encrypt" }, want: `security_mode "Encrypt"`},
		{name: "auth", srv: func(s *config.Server) { s.Auth = "token" }, want: `auth "token"`},
		{name: "endpoint", srv: func(s *config.Server) { s.Endpoint = "" }, want: "endpoint is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, nodes := srv, append([]config.NodeRef(nil), good...)
			if tt.srv != nil {
				tt.srv(&s)
			}
			if tt.node != nil {
				tt.node(&nodes[0].Node)
			}
			opts := Options{Sink: newRecordSink()}
			if tt.noSink {
				opts.Sink = nil
			}
			_, err := New(s, nodes, opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestNodeResolve(t *testing.T) {
	srv := testServer("s", "opc.tcp://x:1")
	namespaces := []string{"http://opcfoundation.org/UA/", "urn:a", "urn:b"}
	tests := []struct{ id, want string }{
		{"ns=5;s=x", "ns=5;s=x"},
		{"i=2258", "i=2258"},
		{"nsu=urn:b;s=load.1", "ns=2;s=load.1"},
		{"nsu=urn:a;i=7", "ns=1;i=7"},
		{"nsu=http://opcfoundation.org/UA/;i=2258", "i=2258"},
	}
	for _, tt := range tests {
		n, err := parseNode(nodeRefs(srv, tt.id)[0])
		if err != nil {
			t.Fatalf("parseNode(%s): %v", tt.id, err)
		}
		got, err := n.resolve(namespaces)
		if err != nil || got.String() != tt.want {
			t.Errorf("resolve(%s) = %v, %v; want %s", tt.id, got, err, tt.want)
		}
	}
	n, _ := parseNode(nodeRefs(srv, "nsu=urn:c;s=x")[0])
	if _, err := n.resolve(namespaces); err != errNamespaceNotFound {
		t.Errorf("unknown URI: err %v, want errNamespaceNotFound", err)
	}
}

func TestCreateRequest(t *testing.T) {
	srv := testServer("s", "opc.tcp://x:1")
	tests := []struct {
		name       string
		node       func(*config.Node)
		wantFilter *ua.DataChangeFilter
	}{
		{"default", func(*config.Node) {}, nil},
		{"status", func(n *config.Node) { n.Trigger = "status" }, &ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatus}},
		{"timestamp", func(n *config.Node) { n.Trigger = "status_value_timestamp" },
			&ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatusValueTimestamp}},
		{"absolute", func(n *config.Node) { n.Deadband, n.DeadbandValue = "absolute", 0.5 },
			&ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatusValue, DeadbandType: 1, DeadbandValue: 0.5}},
		{"percent", func(n *config.Node) { n.Deadband, n.DeadbandValue = "percent", 2 },
			&ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatusValue, DeadbandType: 2, DeadbandValue: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := nodeRefs(srv, "ns=1;s=a")[0]
			ref.Node.SamplingInterval = config.Duration(250 * time.Microsecond)
			ref.Node.QueueSize = 42
			tt.node(&ref.Node)
			n, err := parseNode(ref)
			if err != nil {
				t.Fatalf("parseNode: %v", err)
			}
			req := n.createRequest(n.id, 9)
			p := req.RequestedParameters
			if p.ClientHandle != 9 || p.SamplingInterval != 0.25 || p.QueueSize != 42 || !p.DiscardOldest {
				t.Errorf("parameters %+v", p)
			}
			checkFilter(t, p.Filter, tt.wantFilter)
		})
	}
}

func checkFilter(t *testing.T, got *ua.ExtensionObject, want *ua.DataChangeFilter) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("filter %+v, want none", got)
		}
		return
	}
	if got == nil || got.TypeID.NodeID.IntID() != 724 || !reflect.DeepEqual(got.Value, *want) {
		t.Errorf("filter %+v, want DataChangeFilter %+v", got, want)
	}
}

func TestGroupByInterval(t *testing.T) {
	srv := testServer("s", "opc.tcp://x:1")
	refs := nodeRefs(srv, "i=1", "i=2", "i=3", "i=4")
	for i, d := range []time.Duration{time.Second, 100 * time.Millisecond, time.Second, 500 * time.Millisecond} {
		refs[i].Node.PublishingInterval = config.Duration(d)
	}
	got := groupByInterval(refs)
	want := []group{{100 * time.Millisecond, []int{1}}, {500 * time.Millisecond, []int{3}}, {time.Second, []int{0, 2}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups %+v, want %+v", got, want)
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: time.Second, max: 30 * time.Second}
	caps := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i, c := range caps {
		c *= time.Second
		if d := b.next(); d < c/2 || d > c {
			t.Errorf("attempt %d: delay %s, want in [%s, %s]", i, d, c/2, c)
		}
	}
	b.reset()
	if d := b.next(); d > time.Second {
		t.Errorf("after reset: %s, want ≤ 1s", d)
	}
}

func TestFlushContextOutlivesRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	deliver, stop := flushContext(ctx, 50*time.Millisecond)
	defer stop()
	cancel()
	if deliver.Err() != nil {
		t.Fatal("flush context ended with Run's context")
	}
	select {
	case <-deliver.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("flush context did not end after its timeout")
	}
}

func TestStatusString(t *testing.T) {
	if got, want := statusString(ua.StatusBadNotReadable), "BadNotReadable (0x803A0000)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := statusString(0x80FF0000), "0x80FF0000"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
