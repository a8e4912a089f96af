package hubsim

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// twinClient subscribes to twin responses and desired patches and hands
// what arrives to the test.
func twinClient(t *testing.T, h *Hub) (paho.Client, <-chan paho.Message) {
	t.Helper()
	key := h.AddDevice("dev")
	c := mustConnect(t, deviceOptions(t, h, "dev", "", key))
	got := make(chan paho.Message, 10)
	handler := func(_ paho.Client, m paho.Message) { got <- m }
	if err := waitToken(c.SubscribeMultiple(map[string]byte{twinResFilter: 0, desiredFilter: 0}, handler)); err != nil {
		t.Fatal(err)
	}
	return c, got
}

func next(t *testing.T, got <-chan paho.Message) paho.Message {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message from the hub")
		return nil
	}
}

func TestTwinGetAndPatch(t *testing.T) {
	h := Start(t, Options{})
	c, got := twinClient(t, h)

	c.Publish("$iothub/twin/PATCH/properties/reported/?$rid=p1", 0, false, `{"fw":"1.0","line":{"a":1,"b":2}}`)
	if m := next(t, got); m.Topic() != "$iothub/twin/res/204/?$rid=p1&$version=2" {
		t.Errorf("patch answer on %q", m.Topic())
	}
	c.Publish("$iothub/twin/PATCH/properties/reported/?$rid=p2", 1, false, `{"line":{"a":null,"c":3},"fw":null,"ok":true}`)
	if m := next(t, got); m.Topic() != "$iothub/twin/res/204/?$rid=p2&$version=3" {
		t.Errorf("patch answer on %q", m.Topic())
	}
	want := map[string]any{"line": map[string]any{"b": 2.0, "c": 3.0}, "ok": true}
	if r := h.Reported("dev", ""); !reflect.DeepEqual(r, want) {
		t.Errorf("Reported = %v, want %v", r, want)
	}

	c.Publish("$iothub/twin/GET/?$rid=g1", 0, false, "")
	m := next(t, got)
	if m.Topic() != "$iothub/twin/res/200/?$rid=g1" {
		t.Fatalf("GET answer on %q", m.Topic())
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(m.Payload(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["desired"]["$version"] != 1.0 || doc["reported"]["$version"] != 3.0 || doc["reported"]["ok"] != true {
		t.Errorf("twin %s", m.Payload())
	}
}

func TestTwinPatchRejected(t *testing.T) {
	h := Start(t, Options{})
	c, got := twinClient(t, h)
	for i, body := range []string{`{"fw":`, `[1]`, `null`, `{"a.b":1}`, `{"$x":1}`, `{"servers":{"Line 1":"ok"}}`,
		`{"tab\tname":1}`, `{"big":4503599627370496}`, `{"s":"` + strings.Repeat("x", 4097) + `"}`} {
		rid := string(rune('a' + i))
		c.Publish("$iothub/twin/PATCH/properties/reported/?$rid="+rid, 0, false, body)
		if m := next(t, got); m.Topic() != "$iothub/twin/res/400/?$rid="+rid {
			t.Errorf("patch %s answered on %q", body, m.Topic())
		}
	}
	if r := h.Reported("dev", ""); len(r) != 0 {
		t.Errorf("Reported = %v, want empty", r)
	}
	if cl := h.Closes(); len(cl) != 0 {
		t.Errorf("closes %+v", cl)
	}
}

func TestSetDesired(t *testing.T) {
	h := Start(t, Options{})
	_, got := twinClient(t, h)
	h.SetDesired("dev", "", map[string]any{"interval": 5, "tags": map[string]any{"x": "y"}})
	m := next(t, got)
	if m.Topic() != "$iothub/twin/PATCH/properties/desired/?$version=2" {
		t.Errorf("desired patch on %q", m.Topic())
	}
	var patch map[string]any
	if err := json.Unmarshal(m.Payload(), &patch); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"interval": 5.0, "tags": map[string]any{"x": "y"}, "$version": 2.0}
	if !reflect.DeepEqual(patch, want) {
		t.Errorf("patch %v, want %v", patch, want)
	}
	h.SetDesired("dev", "", map[string]any{"tags": nil})
	if d := h.Desired("dev", ""); !reflect.DeepEqual(d, map[string]any{"interval": 5.0}) {
		t.Errorf("Desired = %v", d)
	}
}

// TestFailTwin: injected failures answer the next twin requests, in order,
// then the hub answers normally again.
func TestFailTwin(t *testing.T) {
	h := Start(t, Options{})
	c, got := twinClient(t, h)
	h.FailTwin(429, 503)
	for i, want := range []string{"429", "503", "204"} {
		rid := string(rune('a' + i))
		c.Publish("$iothub/twin/PATCH/properties/reported/?$rid="+rid, 0, false, `{"x":1}`)
		if m := next(t, got); !strings.HasPrefix(m.Topic(), "$iothub/twin/res/"+want+"/?$rid="+rid) {
			t.Errorf("patch %d answered on %q, want status %s", i, m.Topic(), want)
		}
	}
}
