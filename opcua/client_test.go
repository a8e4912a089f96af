package opcua

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

func TestNewRejects(t *testing.T) {
	good := testServer("s", "opc.tcp://127.0.0.1:4840", "ns=1;s=a")
	tests := []struct {
		name   string
		srv    func(*Options)
		node   func(*Node)
		noSink bool
		want   string
	}{
		{name: "no sink", noSink: true, want: "Sink is required"},
		{name: "bad id", node: func(n *Node) { n.ID = "ns=x;s=a" }, want: `node line/station/ns=1;s=a: id "ns=x;s=a"`},
		{name: "bad nsu id", node: func(n *Node) { n.ID = "nsu=urn:a;i=x" }, want: `id "nsu=urn:a;i=x"`},
		{name: "trigger", node: func(n *Node) { n.Trigger = "value" }, want: `unknown trigger "value"`},
		{name: "deadband", node: func(n *Node) { n.Deadband = "relative" }, want: `unknown deadband "relative"`},
		{name: "policy", srv: func(s *Options) { s.SecurityPolicy = "Basic512" }, want: `security_policy "Basic512"`},
		{name: "mode", srv: func(s *Options) { s.SecurityMode = "Encrypt" }, want: `security_mode "Encrypt"`},
		{name: "auth", srv: func(s *Options) { s.Auth = "token" }, want: `auth "token"`},
		{name: "endpoint", srv: func(s *Options) { s.Endpoint = "" }, want: "endpoint is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := good
			opts.Nodes = append([]Node(nil), good.Nodes...)
			if tt.srv != nil {
				tt.srv(&opts)
			}
			if tt.node != nil {
				tt.node(&opts.Nodes[0])
			}
			opts.Sink = newRecordSink()
			if tt.noSink {
				opts.Sink = nil
			}
			_, err := New(opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestNodeResolve(t *testing.T) {
	namespaces := []string{"http://opcfoundation.org/UA/", "urn:a", "urn:b"}
	tests := []struct{ id, want string }{
		{"ns=5;s=x", "ns=5;s=x"},
		{"i=2258", "i=2258"},
		{"nsu=urn:b;s=load.1", "ns=2;s=load.1"},
		{"nsu=urn:a;i=7", "ns=1;i=7"},
		{"nsu=http://opcfoundation.org/UA/;i=2258", "i=2258"},
	}
	for _, tt := range tests {
		n, err := parseNode(testNode("s", tt.id))
		if err != nil {
			t.Fatalf("parseNode(%s): %v", tt.id, err)
		}
		got, err := n.resolve(namespaces)
		if err != nil || got.String() != tt.want {
			t.Errorf("resolve(%s) = %v, %v; want %s", tt.id, got, err, tt.want)
		}
	}
	n, _ := parseNode(testNode("s", "nsu=urn:c;s=x"))
	if _, err := n.resolve(namespaces); err != errNamespaceNotFound {
		t.Errorf("unknown URI: err %v, want errNamespaceNotFound", err)
	}
}

func TestCreateRequest(t *testing.T) {
	tests := []struct {
		name       string
		node       func(*Node)
		wantFilter *ua.DataChangeFilter
	}{
		{"default", func(*Node) {}, nil},
		{"status", func(n *Node) { n.Trigger = "status" }, &ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatus}},
		{"timestamp", func(n *Node) { n.Trigger = "status_value_timestamp" },
			&ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatusValueTimestamp}},
		{"absolute", func(n *Node) { n.Deadband, n.DeadbandValue = "absolute", 0.5 },
			&ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatusValue, DeadbandType: 1, DeadbandValue: 0.5}},
		{"percent", func(n *Node) { n.Deadband, n.DeadbandValue = "percent", 2 },
			&ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatusValue, DeadbandType: 2, DeadbandValue: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := testNode("s", "ns=1;s=a")
			spec.SamplingInterval = 250 * time.Microsecond
			spec.QueueSize = 42
			tt.node(&spec)
			n, err := parseNode(spec)
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

// TestNodeDefaults checks that a node's zero fields take their defaults,
// except the sampling interval, whose zero asks for the server's fastest.
func TestNodeDefaults(t *testing.T) {
	n, err := parseNode(Node{Name: "n", ID: "ns=1;s=a"})
	must(t, err)
	want := Node{Name: "n", ID: "ns=1;s=a", PublishingInterval: DefaultPublishingInterval,
		QueueSize: DefaultQueueSize, Trigger: DefaultTrigger, Mode: ModeSubscribe}
	if n.spec != want {
		t.Errorf("node %+v, want %+v", n.spec, want)
	}
	p := n.createRequest(n.id, 1).RequestedParameters
	if p.SamplingInterval != 0 || p.QueueSize != DefaultQueueSize || p.Filter != nil {
		t.Errorf("parameters %+v, want sampling 0, queue %d, no filter", p, DefaultQueueSize)
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
	var nodes []node
	for i, d := range []time.Duration{time.Second, 100 * time.Millisecond, time.Second, 500 * time.Millisecond} {
		spec := testNode("s", fmt.Sprintf("i=%d", i+1))
		spec.PublishingInterval = d
		n, err := parseNode(spec)
		must(t, err)
		nodes = append(nodes, n)
	}
	got := groupByInterval(nodes)
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
