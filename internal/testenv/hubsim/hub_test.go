package hubsim

import (
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

func TestDeviceTelemetry(t *testing.T) {
	h := Start(t, Options{})
	key := h.AddDevice("dev-1")
	c := mustConnect(t, deviceOptions(t, h, "dev-1", "", key))

	props := map[string]string{
		"$.ct": "application/json", "$.ce": "utf-8", "$.mid": "m-1",
		"name with space": "a b", "plus": "1+1=2", "amp": "x&y=z", "slash": "a/b",
		"unicode": "grüße ☃", "percent": "100%", "empty": "",
	}
	var bag []string
	for k, v := range props {
		bag = append(bag, escape(k)+"="+escape(v))
	}
	topic := "devices/dev-1/messages/events/" + strings.Join(bag, "&")
	if err := waitToken(c.Publish(topic, 1, false, `{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	msgs := h.Messages()
	if len(msgs) != 1 || h.Count() != 1 {
		t.Fatalf("got %d messages (count %d), want 1", len(msgs), h.Count())
	}
	m := msgs[0]
	if m.DeviceID != "dev-1" || m.ModuleID != "" || m.Topic != topic || string(m.Payload) != `{"v":1}` {
		t.Errorf("got %+v", m)
	}
	if !maps.Equal(m.Properties, props) {
		t.Errorf("properties\n got %v\nwant %v", m.Properties, props)
	}
}

func TestModuleTelemetry(t *testing.T) {
	h := Start(t, Options{HostName: "other.azure-devices.net"})
	key := h.AddModule("edge-1", "bridge")
	c := mustConnect(t, deviceOptions(t, h, "edge-1", "bridge", key))
	if err := waitToken(c.Publish("devices/edge-1/modules/bridge/messages/events/$.on=out", 1, false, "x")); err != nil {
		t.Fatal(err)
	}
	m := h.Messages()[0]
	if m.DeviceID != "edge-1" || m.ModuleID != "bridge" || m.Properties["$.on"] != "out" {
		t.Errorf("got %+v", m)
	}
}

// OnMessage has returned before the PUBACK goes out, so a consumer that
// records messages has every acknowledged one.
func TestPubackAfterOnMessage(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	h := Start(t, Options{Keep: 3, OnMessage: func(m Message) {
		time.Sleep(time.Millisecond) // widen the window a premature PUBACK would use
		mu.Lock()
		seen = append(seen, string(m.Payload))
		mu.Unlock()
	}})
	key := h.AddDevice("dev")
	c := mustConnect(t, deviceOptions(t, h, "dev", "", key))
	for i := range 5 {
		p := string(rune('a' + i))
		if err := waitToken(c.Publish("devices/dev/messages/events/", 1, false, p)); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		last := seen[len(seen)-1]
		mu.Unlock()
		if last != p {
			t.Fatalf("PUBACK of %q before OnMessage saw it (last %q)", p, last)
		}
	}
	var kept []string
	for _, m := range h.Messages() {
		kept = append(kept, string(m.Payload))
	}
	if got, want := strings.Join(kept, ""), "cde"; got != want || h.Count() != 5 {
		t.Errorf("kept %q count %d, want %q count 5", got, h.Count(), want)
	}
}

func TestRefused(t *testing.T) {
	h := Start(t, Options{})
	key := h.AddDevice("dev")
	other := h.AddDevice("other")
	host := h.HostName()
	user := testUsername(host, "dev", "")
	good := testToken(t, host, "dev", "", key, time.Now().Add(time.Hour))
	notAuth, badPass := packets.ErrorRefusedNotAuthorised, packets.ErrorRefusedBadUsernameOrPassword
	tests := []struct {
		name, clientID, username, password string
		want                               Reason
		connack                            error
	}{
		{"wrong key", "dev", user, testToken(t, host, "dev", "", other, time.Now().Add(time.Hour)), ReasonBadSignature, notAuth},
		{"expired token", "dev", user, testToken(t, host, "dev", "", key, time.Now().Add(-time.Second)), ReasonTokenExpired, notAuth},
		{"token for another device", "dev", user, testToken(t, host, "other", "", key, time.Now().Add(time.Hour)), ReasonBadResource, notAuth},
		{"dial address as host name", "dev", testUsername(h.Addr(), "dev", ""), good, ReasonBadUsername, badPass},
		{"no api-version", "dev", host + "/dev/", good, ReasonBadUsername, badPass},
		{"unknown ClientId", "dev2", testUsername(host, "dev2", ""), good, ReasonUnknownID, notAuth},
		{"ClientId not the username's", "other", user, good, ReasonBadUsername, badPass},
		{"not a token", "dev", user, key, ReasonBadToken, badPass},
		{"no password", "dev", user, "", ReasonAuthMethod, notAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(h.Refusals())
			if _, err := connect(t, options(h, tt.clientID, tt.username, tt.password)); !errors.Is(err, tt.connack) {
				t.Errorf("connect: %v, want %v", err, tt.connack)
			}
			got := h.Refusals()
			if len(got) != n+1 || got[n].Reason != tt.want {
				t.Fatalf("refusals %+v, want one more with %q", got[n:], tt.want)
			}
		})
	}
	if cl := h.Closes(); len(cl) != 0 {
		t.Errorf("closes %+v, want none", cl)
	}
}

func TestTokenExpiryCloses(t *testing.T) {
	h := Start(t, Options{})
	key := h.AddDevice("dev")
	expiry := time.Now().Add(2 * time.Second)
	o := options(h, "dev", testUsername(h.HostName(), "dev", ""), testToken(t, h.HostName(), "dev", "", key, expiry))
	lost := withLost(o)
	mustConnect(t, o)
	got := waitClose(t, h, "dev")
	waitLost(t, lost)
	se := time.Unix(expiry.Unix(), 0)
	if got.Reason != ReasonTokenExpired || got.At.Before(se) || got.At.Sub(se) > time.Second {
		t.Errorf("close %+v, want %q within 1 s after %v", got, ReasonTokenExpired, se)
	}
}

func TestSecondConnectionTakesOver(t *testing.T) {
	h := Start(t, Options{})
	key := h.AddDevice("dev")
	o := deviceOptions(t, h, "dev", "", key)
	lost := withLost(o)
	mustConnect(t, o)
	second := mustConnect(t, deviceOptions(t, h, "dev", "", key))
	if got := waitClose(t, h, "dev"); got.Reason != ReasonTakenOver {
		t.Errorf("close %+v, want %q", got, ReasonTakenOver)
	}
	waitLost(t, lost)
	if err := waitToken(second.Publish("devices/dev/messages/events/", 1, false, "x")); err != nil {
		t.Errorf("second connection: %v", err)
	}
	wait(t, h, "dev connected", func() bool { return h.Connected("dev") })
}

func TestDisconnect(t *testing.T) {
	h := Start(t, Options{})
	key := h.AddDevice("dev")
	o := deviceOptions(t, h, "dev", "", key)
	lost := withLost(o)
	mustConnect(t, o)
	wait(t, h, "dev connected", func() bool { return h.Connected("dev") })
	if !h.Disconnect("dev") {
		t.Fatal("Disconnect found no connection")
	}
	waitLost(t, lost)
	if got := waitClose(t, h, "dev"); got.Reason != ReasonDisconnected {
		t.Errorf("close %+v", got)
	}
	wait(t, h, "dev offline", func() bool { return !h.Connected("dev") })
}

func TestX509Device(t *testing.T) {
	h := Start(t, Options{})
	cert := h.AddX509Device("cam-1")
	h.AddX509Device("cam-2")
	o := options(h, "cam-1", testUsername(h.HostName(), "cam-1", ""), "")
	o.SetTLSConfig(withCert(t, h, cert))
	c := mustConnect(t, o)
	if err := waitToken(c.Publish("devices/cam-1/messages/events/", 1, false, "x")); err != nil {
		t.Fatal(err)
	}

	if _, err := connect(t, options(h, "cam-2", testUsername(h.HostName(), "cam-2", ""), "")); err == nil {
		t.Error("cam-2 connected without a certificate")
	}
	o = options(h, "cam-2", testUsername(h.HostName(), "cam-2", ""), "")
	o.SetTLSConfig(withCert(t, h, cert))
	if _, err := connect(t, o); err == nil {
		t.Error("cam-2 connected with cam-1's certificate")
	}
	for _, r := range h.Refusals() {
		if r.ClientID != "cam-2" || r.Reason != ReasonBadCert {
			t.Errorf("refusal %+v, want cam-2 %q", r, ReasonBadCert)
		}
	}
}
