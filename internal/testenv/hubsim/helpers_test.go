package hubsim

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// testToken mints a SAS token the way a careful client does, independently
// of sas.go: sr and sig URL-encoded with upper-case escapes.
func testToken(t testing.TB, host, deviceID, moduleID, key string, expiry time.Time) string {
	t.Helper()
	resource := host + "/devices/" + deviceID
	if moduleID != "" {
		resource += "/modules/" + moduleID
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	sr := url.QueryEscape(resource)
	mac := hmac.New(sha256.New, k)
	fmt.Fprintf(mac, "%s\n%d", sr, expiry.Unix())
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return fmt.Sprintf("SharedAccessSignature sr=%s&sig=%s&se=%d", sr, url.QueryEscape(sig), expiry.Unix())
}

// testUsername is the Username of a device or module.
func testUsername(host, deviceID, moduleID string) string {
	if moduleID != "" {
		return host + "/" + deviceID + "/" + moduleID + "/?api-version=" + APIVersion
	}
	return host + "/" + deviceID + "/?api-version=" + APIVersion
}

// escape encodes a property-bag name or value: '+' as %2B, space as %20.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// options are paho options for clientID over TLS MQTT, with no retries so
// that a refusal or a close shows.
func options(h *Hub, clientID, username, password string) *paho.ClientOptions {
	return paho.NewClientOptions().
		AddBroker("ssl://" + h.Addr()).
		SetClientID(clientID).
		SetUsername(username).
		SetPassword(password).
		SetTLSConfig(h.ClientTLSConfig()).
		SetProtocolVersion(4).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(5 * time.Second).
		SetKeepAlive(30 * time.Second)
}

// deviceOptions has valid credentials with a token valid for an hour.
func deviceOptions(t testing.TB, h *Hub, deviceID, moduleID, key string) *paho.ClientOptions {
	t.Helper()
	clientID := deviceID
	if moduleID != "" {
		clientID += "/" + moduleID
	}
	tok := testToken(t, h.HostName(), deviceID, moduleID, key, time.Now().Add(time.Hour))
	return options(h, clientID, testUsername(h.HostName(), deviceID, moduleID), tok)
}

// connect connects and disconnects at the end of the test.
func connect(t testing.TB, o *paho.ClientOptions) (paho.Client, error) {
	t.Helper()
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c, nil
}

func mustConnect(t testing.TB, o *paho.ClientOptions) paho.Client {
	t.Helper()
	c, err := connect(t, o)
	if err != nil {
		t.Fatalf("connect %s: %v", o.ClientID, err)
	}
	return c
}

// wait fails the test unless cond holds within 10 s.
func wait(t testing.TB, h *Hub, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// waitClose returns the first close the hub recorded for clientID.
func waitClose(t testing.TB, h *Hub, clientID string) Close {
	t.Helper()
	var got Close
	wait(t, h, "close of "+clientID, func() bool {
		for _, c := range h.Closes() {
			if c.ClientID == clientID {
				got = c
				return true
			}
		}
		return false
	})
	return got
}

// waitRefusal returns the first refusal the hub recorded for clientID.
func waitRefusal(t testing.TB, h *Hub, clientID string) Close {
	t.Helper()
	var got Close
	wait(t, h, "refusal of "+clientID, func() bool {
		for _, c := range h.Refusals() {
			if c.ClientID == clientID {
				got = c
				return true
			}
		}
		return false
	})
	return got
}

// waitLost waits for paho to notice the connection is gone.
func waitLost(t testing.TB, lost <-chan error) {
	t.Helper()
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not lose its connection")
	}
}

// withLost reports paho's connection-lost events on the returned channel.
func withLost(o *paho.ClientOptions) <-chan error {
	lost := make(chan error, 1)
	o.SetConnectionLostHandler(func(_ paho.Client, err error) {
		select {
		case lost <- err:
		default:
		}
	})
	return lost
}

// waitToken waits for a paho token and returns its error.
func waitToken(tok paho.Token) error {
	if !tok.WaitTimeout(10 * time.Second) {
		return errors.New("token timed out")
	}
	return tok.Error()
}

// withCert is the hub's client TLS config presenting cert.
func withCert(t testing.TB, h *Hub, cert ClientCert) *tls.Config {
	t.Helper()
	pair, err := tls.X509KeyPair(cert.CertPEM, cert.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cfg := h.ClientTLSConfig()
	cfg.Certificates = []tls.Certificate{pair}
	return cfg
}
