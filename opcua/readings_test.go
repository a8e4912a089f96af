package opcua

import (
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	"factorybridge/internal/testenv"
)

// TestReadingsAllocateOnlyTheBatch: turning a notification's values into
// readings allocates the slice handed to the sink and nothing per value
// (a number's conversion boxes nothing, and the nodes' slice is reused).
func TestReadingsAllocateOnlyTheBatch(t *testing.T) {
	opts := testOptions(testServer("alloc", "opc.tcp://127.0.0.1:4840", loadIDs(100)...), newRecordSink(), &testenv.Logs{})
	s := newSession(newClient(t, opts))
	now := time.Now()
	items := make([]*ua.MonitoredItemNotification, 100)
	for i := range items {
		items[i] = &ua.MonitoredItemNotification{ClientHandle: uint32(i), Value: &ua.DataValue{
			EncodingMask: ua.DataValueValue | ua.DataValueSourceTimestamp | ua.DataValueServerTimestamp,
			Value:        ua.MustVariant(float64(i) / 3), SourceTimestamp: now, ServerTimestamp: now,
		}}
	}
	var n int
	allocs := testing.AllocsPerRun(20, func() {
		batch, handles := s.readings(items)
		n = len(batch) + len(handles)
	})
	if got, want := allocs, 1.0; got > want || n != 200 {
		t.Errorf("%.1f allocations for %d readings and nodes, want %.0f for 100 and 100", got, n, want)
	}
}
