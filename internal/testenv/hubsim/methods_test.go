package hubsim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// methodClient answers every method with 200 and the request echoed, except
// "sleep", which it never answers.
func methodClient(t *testing.T, h *Hub) paho.Client {
	t.Helper()
	key := h.AddDevice("dev")
	c := mustConnect(t, deviceOptions(t, h, "dev", "", key))
	handler := func(c paho.Client, m paho.Message) {
		rest := strings.TrimPrefix(m.Topic(), "$iothub/methods/POST/")
		name, query, _ := strings.Cut(rest, "/?")
		if name != "sleep" {
			c.Publish("$iothub/methods/res/200/?"+query, 0, false, `{"got":`+string(m.Payload())+`}`)
		}
	}
	if err := waitToken(c.Subscribe(methodsFilter, 0, handler)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInvoke(t *testing.T) {
	h := Start(t, Options{})
	methodClient(t, h)
	status, body, err := h.Invoke(context.Background(), "dev", "", "reset", []byte(`{"hard":true}`), 5*time.Second)
	if err != nil || status != 200 || string(body) != `{"got":{"hard":true}}` {
		t.Errorf("Invoke = %d %s %v", status, body, err)
	}
}

func TestInvokeTimeout(t *testing.T) {
	h := Start(t, Options{})
	methodClient(t, h)
	start := time.Now()
	status, _, err := h.Invoke(context.Background(), "dev", "", "sleep", []byte(`{}`), 200*time.Millisecond)
	if !errors.Is(err, ErrTimeout) || status != http.StatusGatewayTimeout {
		t.Errorf("Invoke = %d %v, want 504 %v", status, err, ErrTimeout)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestInvokeNotOnline(t *testing.T) {
	h := Start(t, Options{})
	key := h.AddDevice("dev")
	ctx := context.Background()
	if status, _, err := h.Invoke(ctx, "dev", "", "reset", nil, time.Second); !errors.Is(err, ErrNotOnline) || status != 404 {
		t.Errorf("offline: %d %v", status, err)
	}
	mustConnect(t, deviceOptions(t, h, "dev", "", key))
	wait(t, h, "dev connected", func() bool { return h.Connected("dev") })
	if status, _, err := h.Invoke(ctx, "dev", "", "reset", nil, time.Second); !errors.Is(err, ErrNotOnline) || status != 404 {
		t.Errorf("not subscribed: %d %v", status, err)
	}
	if _, _, err := h.Invoke(ctx, "nobody", "", "reset", nil, time.Second); !errors.Is(err, ErrUnknownIdentity) {
		t.Errorf("unknown: %v", err)
	}
}

func TestMethodResponseTooLarge(t *testing.T) {
	h := Start(t, Options{})
	key := h.AddDevice("dev")
	o := deviceOptions(t, h, "dev", "", key)
	lost := withLost(o)
	c := mustConnect(t, o)
	big := make([]byte, MaxMethodPayload+1)
	c.Publish("$iothub/methods/res/200/?$rid=1", 0, false, big)
	waitLost(t, lost)
	if got := waitClose(t, h, "dev"); got.Reason != ReasonTooLarge {
		t.Errorf("close %+v, want %q", got, ReasonTooLarge)
	}
}
