package testenv

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// mqttConnect is an MQTT 3.1.1 CONNECT with a clean session, keep-alive
// 60 s and client id "t".
var mqttConnect = []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 1, 't'}

// connack is the CONNACK accepting it.
var connack = []byte{0x20, 2, 0, 0}

// handshake connects to the broker and checks it accepts an MQTT session.
func handshake(m *Mosquitto) error {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port)), 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(mqttConnect); err != nil {
		return err
	}
	got := make([]byte, len(connack))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, connack) {
		return &unexpected{got}
	}
	return nil
}

type unexpected struct{ b []byte }

func (u *unexpected) Error() string { return "unexpected reply " + strconv.Quote(string(u.b)) }

func TestMosquittoStopStart(t *testing.T) {
	m := StartMosquitto(t)
	if want := "tcp://127.0.0.1:" + strconv.Itoa(m.Port); m.URL != want {
		t.Fatalf("URL %q, want %q", m.URL, want)
	}
	if err := handshake(m); err != nil {
		t.Fatalf("MQTT handshake: %v\n%s", err, m.logTail())
	}
	m.Stop()
	if err := handshake(m); err == nil {
		t.Fatal("broker still answers after Stop")
	}
	m.Stop() // stopping twice is harmless
	m.Start()
	if err := handshake(m); err != nil {
		t.Fatalf("MQTT handshake after restart on port %d: %v\n%s", m.Port, err, m.logTail())
	}
}

// TestMosquittoExtraLines: extra configuration lines override the defaults.
func TestMosquittoExtraLines(t *testing.T) {
	m := StartMosquittoWith(t, MosquittoOptions{Extra: []string{"allow_anonymous false"}})
	var u *unexpected
	if err := handshake(m); !errors.As(err, &u) || !bytes.Equal(u.b, []byte{0x20, 2, 0, 5}) {
		t.Fatalf("anonymous CONNECT: %v; want CONNACK return code 5 (not authorized)\n%s", err, m.logTail())
	}
}

// TestMosquittoCountsConnections: every accepted connection of a client id
// is counted, across a restart of the broker, and only that id's.
func TestMosquittoCountsConnections(t *testing.T) {
	m := StartMosquitto(t)
	if got := m.Connections("t"); got != 0 {
		t.Fatalf("before any client: %d connections", got)
	}
	for range 2 {
		if err := handshake(m); err != nil {
			t.Fatalf("MQTT handshake: %v\n%s", err, m.logTail())
		}
	}
	if got := m.Connections("t"); got != 2 {
		t.Fatalf("after two connections as \"t\": %d counted\n%s", got, m.logTail())
	}
	m.Stop()
	m.Start()
	if err := handshake(m); err != nil {
		t.Fatalf("MQTT handshake after restart: %v\n%s", err, m.logTail())
	}
	if got, other := m.Connections("t"), m.Connections("tt"); got != 3 || other != 0 {
		t.Fatalf("after a restart and a third connection: %d as \"t\", %d as \"tt\"; want 3, 0\n%s", got, other, m.logTail())
	}
}
