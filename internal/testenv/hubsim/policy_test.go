package hubsim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Each breach of the hub's rules closes the connection with its reason, and
// nothing of it is delivered.
func TestViolationsClose(t *testing.T) {
	h := Start(t, Options{})
	const events = "devices/dev/messages/events/"
	tests := []struct {
		name string
		act  func(c paho.Client) paho.Token
		want Reason
	}{
		{"qos 2", func(c paho.Client) paho.Token { return c.Publish(events, 2, false, "x") }, ReasonQoS2},
		{"retain", func(c paho.Client) paho.Token { return c.Publish(events, 1, true, "x") }, ReasonRetain},
		{"another device's topic", func(c paho.Client) paho.Token { return c.Publish("devices/other/messages/events/", 1, false, "x") }, ReasonTopic},
		{"no trailing slash", func(c paho.Client) paho.Token { return c.Publish("devices/dev/messages/events", 1, false, "x") }, ReasonTopic},
		{"plain topic", func(c paho.Client) paho.Token { return c.Publish("factory/line1", 0, false, "x") }, ReasonTopic},
		{"space encoded as '+'", func(c paho.Client) paho.Token { return c.Publish(events+"a=b+c", 1, false, "x") }, ReasonMalformed},
		{"bad property bag", func(c paho.Client) paho.Token { return c.Publish(events+"a=b=c", 1, false, "x") }, ReasonMalformed},
		{"over 256 KB", func(c paho.Client) paho.Token {
			return c.Publish(events, 1, false, make([]byte, MaxTelemetrySize+1))
		}, ReasonTooLarge},
		{"256 KB with properties", func(c paho.Client) paho.Token {
			return c.Publish(events+"k=v", 1, false, make([]byte, MaxTelemetrySize-1))
		}, ReasonTooLarge},
		{"twin GET without $rid", func(c paho.Client) paho.Token { return c.Publish("$iothub/twin/GET/", 0, false, "") }, ReasonTopic},
		{"twin GET with empty $rid", func(c paho.Client) paho.Token { return c.Publish("$iothub/twin/GET/?$rid=", 0, false, "") }, ReasonMalformed},
		{"method response without status", func(c paho.Client) paho.Token { return c.Publish("$iothub/methods/res/?$rid=1", 0, false, "") }, ReasonTopic},
		{"subscribe to telemetry", func(c paho.Client) paho.Token { return c.Subscribe(events+"#", 0, nil) }, ReasonSubscribe},
		{"subscribe to everything", func(c paho.Client) paho.Token { return c.Subscribe("#", 0, nil) }, ReasonSubscribe},
		{"subscribe to a method by name", func(c paho.Client) paho.Token { return c.Subscribe("$iothub/methods/POST/reset", 0, nil) }, ReasonSubscribe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := h.AddDevice("dev")
			o := deviceOptions(t, h, "dev", "", key)
			lost := withLost(o)
			c := mustConnect(t, o)
			n, count := len(h.Closes()), h.Count()
			tt.act(c)
			waitLost(t, lost)
			got := h.Closes()
			if len(got) != n+1 || got[n].Reason != tt.want || got[n].ClientID != "dev" {
				t.Fatalf("closes %+v, want one more for dev with %q", got[n:], tt.want)
			}
			if h.Count() != count {
				t.Errorf("a message was delivered")
			}
		})
	}
}

func TestThrottle(t *testing.T) {
	h := Start(t, Options{MaxMessagesPerSecond: 3})
	key := h.AddDevice("dev")
	o := deviceOptions(t, h, "dev", "", key)
	lost := withLost(o)
	c := mustConnect(t, o)
	for range 5 {
		c.Publish("devices/dev/messages/events/", 1, false, "x")
	}
	waitLost(t, lost)
	if got := waitClose(t, h, "dev"); got.Reason != ReasonThrottled {
		t.Errorf("close %+v, want %q", got, ReasonThrottled)
	}
	if h.Count() != 3 {
		t.Errorf("accepted %d messages, want 3", h.Count())
	}
}

// Within the window the limit holds; a second later there is room again.
func TestAdmitSlidingWindow(t *testing.T) {
	h := &Hub{opts: Options{MaxMessagesPerSecond: 2}}
	id := &identity{}
	t0 := time.Now()
	for i, tt := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {100 * time.Millisecond, true}, {900 * time.Millisecond, false}, {time.Second, true}, {1050 * time.Millisecond, false}, {1100 * time.Millisecond, true}} {
		if got := h.admit(id, t0.Add(tt.at)); got != tt.want {
			t.Errorf("%d: admit at %v = %v, want %v", i, tt.at, got, tt.want)
		}
	}
}

// The four filters a device may hold cannot exceed the limit of five, so the
// limit is checked on the hook directly.
func TestSubscriptionLimit(t *testing.T) {
	h := &Hub{notify: make(chan struct{})}
	id := &identity{key: identityKey{device: "dev"}, subs: map[string]bool{"a": true, "b": true, "c": true, "d": true}}
	c := &conn{id: id}
	pk := packets.Packet{Filters: packets.Subscriptions{{Filter: methodsFilter}}}
	if v := h.subscribe(c, pk); v != nil {
		t.Fatalf("fifth subscription: %+v", v)
	}
	pk.Filters[0].Filter = twinResFilter
	if v := h.subscribe(c, pk); v == nil || v.reason != ReasonTooManySubs {
		t.Fatalf("sixth subscription: %+v, want %q", v, ReasonTooManySubs)
	}
}

func TestAllowedSubscriptions(t *testing.T) {
	h := Start(t, Options{})
	key := h.AddDevice("dev")
	c := mustConnect(t, deviceOptions(t, h, "dev", "", key))
	filters := map[string]byte{
		"devices/dev/messages/devicebound/#": 1, methodsFilter: 0, twinResFilter: 0, desiredFilter: 0,
	}
	if err := waitToken(c.SubscribeMultiple(filters, nil)); err != nil {
		t.Fatal(err)
	}
	if cl := h.Closes(); len(cl) != 0 {
		t.Errorf("closes %+v", cl)
	}

	mkey := h.AddModule("dev", "mod")
	o := deviceOptions(t, h, "dev", "mod", mkey)
	lost := withLost(o)
	m := mustConnect(t, o)
	m.Subscribe("devices/dev/messages/devicebound/#", 1, nil)
	waitLost(t, lost)
	if got := waitClose(t, h, "dev/mod"); got.Reason != ReasonSubscribe {
		t.Errorf("module devicebound close %+v, want %q", got, ReasonSubscribe)
	}
}

func TestWebSocket(t *testing.T) {
	h := Start(t, Options{})
	key := h.AddDevice("dev")
	o := deviceOptions(t, h, "dev", "", key)
	o.Servers = nil
	o.AddBroker("wss://" + h.WSAddr() + WebSocketPath)
	c := mustConnect(t, o)
	if err := waitToken(c.Publish("devices/dev/messages/events/a=1", 1, false, strings.Repeat("x", 100000))); err != nil {
		t.Fatal(err)
	}
	if m := h.Messages(); len(m) != 1 || len(m[0].Payload) != 100000 || m[0].Properties["a"] != "1" {
		t.Errorf("got %d messages", len(m))
	}

	o = deviceOptions(t, h, "dev", "", key)
	o.Servers = nil
	o.AddBroker("wss://" + h.WSAddr() + "/mqtt")
	if _, err := connect(t, o); err == nil {
		t.Error("connected on path /mqtt")
	}
}

// TestBasicTierCloses: a Basic-tier hub takes telemetry but closes the
// connection of a SUBSCRIBE to methods or the twin, or a twin request, and
// Invoke fails.
func TestBasicTierCloses(t *testing.T) {
	h := Start(t, Options{Basic: true})
	key := h.AddDevice("dev")
	c := mustConnect(t, deviceOptions(t, h, "dev", "", key))
	if err := waitToken(c.Publish("devices/dev/messages/events/", 1, false, "x")); err != nil || h.Count() != 1 {
		t.Fatalf("telemetry on a Basic hub: %v, %d accepted", err, h.Count())
	}
	c.Disconnect(50)
	o := deviceOptions(t, h, "dev", "", key)
	lost := withLost(o)
	c = mustConnect(t, o)
	c.Subscribe(methodsFilter, 0, nil)
	waitLost(t, lost)
	if got := waitClose(t, h, "dev"); got.Reason != ReasonBasicTier {
		t.Errorf("close %+v, want %q", got, ReasonBasicTier)
	}
	o = deviceOptions(t, h, "dev", "", key)
	lost = withLost(o)
	c = mustConnect(t, o)
	c.Publish("$iothub/twin/GET/?$rid=1", 0, false, "")
	waitLost(t, lost)
	if cl := h.Closes(); len(cl) != 2 || cl[1].Reason != ReasonBasicTier {
		t.Errorf("closes %+v, want two for the Basic tier", cl)
	}
	if status, _, err := h.Invoke(context.Background(), "dev", "", "GetStatus", nil, time.Second); !errors.Is(err, ErrBasicTier) || status != 405 {
		t.Errorf("Invoke on a Basic hub: %d %v", status, err)
	}
}

// TestHubWideThrottleQueues: sends over the hub-wide rate, from any
// identity, are queued and their PUBACKs delayed; when the queue is full
// the hub closes the connection of the send it refuses.
func TestHubWideThrottleQueues(t *testing.T) {
	h := Start(t, Options{Throttle: Throttle{PerSecond: 10, Queue: 5}})
	var clients []paho.Client
	for _, dev := range []string{"a", "b"} {
		clients = append(clients, mustConnect(t, deviceOptions(t, h, dev, "", h.AddDevice(dev))))
	}
	start := time.Now()
	var toks []paho.Token
	for i := range 6 { // 6 sends at 10/s: the last waits 0.5 s
		toks = append(toks, clients[i%2].Publish("devices/"+[]string{"a", "b"}[i%2]+"/messages/events/", 1, false, "x"))
	}
	for _, tok := range toks {
		if err := waitToken(tok); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("6 sends acknowledged in %v at a hub-wide 10/s", d)
	}
	if delayed, maxDelay, _ := h.ThrottleStats(); delayed != 5 || maxDelay < 400*time.Millisecond {
		t.Errorf("delayed %d, longest %v; want 5 and about 500ms", delayed, maxDelay)
	}
	o := deviceOptions(t, h, "c", "", h.AddDevice("c"))
	lost := withLost(o)
	c := mustConnect(t, o)
	for range 8 {
		c.Publish("devices/c/messages/events/", 1, false, "x")
	}
	waitLost(t, lost)
	if got := waitClose(t, h, "c"); got.Reason != ReasonThrottled {
		t.Errorf("close %+v, want %q", got, ReasonThrottled)
	}
}
