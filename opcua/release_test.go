package opcua

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// releaseValue is the value of node k in notification gen: a mix of the
// types whose conversion could alias the decoded memory (text, ByteString,
// arrays) and of boxed scalars.
func releaseValue(k, gen int) any {
	switch k % 5 {
	case 0:
		return uint64(gen*1000 + k)
	case 1:
		return fmt.Sprint("text ", gen, " ", k)
	case 2:
		return []byte{byte(gen), byte(k), 7}
	case 3:
		return []float64{float64(gen), float64(k)}
	}
	return time.Unix(int64(gen*1000+k), 0).UTC()
}

// decodedNotification returns notification gen of nodes values, decoded
// from its encoding as gopcua's receive path decodes it.
func decodedNotification(t testing.TB, nodes, gen int) *ua.DataChangeNotification {
	t.Helper()
	now := time.Now()
	dcn := &ua.DataChangeNotification{MonitoredItems: make([]*ua.MonitoredItemNotification, nodes)}
	for k := range dcn.MonitoredItems {
		dcn.MonitoredItems[k] = &ua.MonitoredItemNotification{ClientHandle: uint32(k), Value: &ua.DataValue{
			EncodingMask: ua.DataValueValue | ua.DataValueSourceTimestamp | ua.DataValueServerTimestamp,
			Value:        ua.MustVariant(releaseValue(k, gen)), SourceTimestamp: now, ServerTimestamp: now,
		}}
	}
	body, err := ua.NewExtensionObject(dcn).Encode()
	must(t, err)
	var eo ua.ExtensionObject
	_, err = eo.Decode(body)
	must(t, err)
	return eo.Value.(*ua.DataChangeNotification)
}

// checkValues fails t unless readings hold the values of notification gen.
func checkValues(t testing.TB, what string, readings []fb.Reading, gen int) {
	t.Helper()
	for k, r := range readings {
		want, err := convertValue(ua.MustVariant(releaseValue(k, gen)), DefaultMaxArrayLen)
		must(t, err)
		if !reflect.DeepEqual(r.Value, want) {
			t.Fatalf("%s %d of notification %d: %+v, want %+v", what, k, gen, r.Value, want)
		}
	}
}

// TestDeliverReleasedNotification: the drain hands a delivered
// notification's decoded memory to the next decode (gopcua patch 10). The
// readings the sink was given and the last values the per-node rules
// remember must not refer to it: they stay intact when the next
// notification is decoded over it.
func TestDeliverReleasedNotification(t *testing.T) {
	const nodes = 97
	sink := newRecordSink()
	opts := testOptions(testServer("release", "opc.tcp://127.0.0.1:4840", loadIDs(nodes)...), sink, &testenv.Logs{})
	opts.Clock.SkewThreshold = 24 * time.Hour
	for i := range opts.Nodes {
		opts.Nodes[i].Heartbeat = time.Hour // the rules remember each node's last value
	}
	s := newSession(newClient(t, opts))
	s.flushCtx = context.Background()

	first := decodedNotification(t, nodes, 1)
	item := first.MonitoredItems[2] // a ByteString's
	s.handle(s.flushCtx, &opcua.PublishNotificationData{Value: first})
	if first.MonitoredItems != nil {
		t.Fatal("the delivered notification was not released")
	}
	second := decodedNotification(t, nodes, 2) // over the first's memory
	if v := item.Value; v != nil && reflect.DeepEqual(v.Value.Value(), releaseValue(2, 1)) {
		t.Fatal("the first notification's memory still holds its values: nothing was overwritten")
	}

	got := sink.snapshot()
	if len(got) != nodes {
		t.Fatalf("%d readings, want %d", len(got), nodes)
	}
	checkValues(t, "reading", got, 1)
	last := make([]fb.Reading, nodes)
	for i := range last {
		last[i] = *s.c.state[i].last
	}
	checkValues(t, "remembered value", last, 1)

	s.handle(s.flushCtx, &opcua.PublishNotificationData{Value: second})
	checkValues(t, "reading", sink.snapshot()[nodes:], 2)
}
