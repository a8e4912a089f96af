package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"factorybridge/internal/testenv"
)

// publishRecord is one PUBLISH a rawSubscriber handed on.
type publishRecord struct {
	topic, payload string
	qos            byte
	size           int
}

// fakeBroker answers a rawSubscriber over net.Pipe: it reads CONNECT and
// SUBSCRIBE, sends CONNACK and a SUBACK granting codes, then packets; what
// the subscriber sends after that (acknowledgements) arrives on the channel
// returned, 4 bytes at a time, read as it comes so that a synchronous pipe
// never blocks the subscriber.
func fakeBroker(t *testing.T, codes []byte, packets ...[]byte) (*rawSubscriber, chan []byte, chan publishRecord, error) {
	t.Helper()
	client, broker := net.Pipe()
	got := make(chan publishRecord, 16)
	s := newRawSubscriber(client, func(topic, payload []byte, qos byte, size int) {
		got <- publishRecord{string(topic), string(payload), qos, size}
	})
	acks := make(chan []byte, 16)
	go func() {
		framer := newRawSubscriber(readOnly{broker}, nil)
		for range 2 { // CONNECT, SUBSCRIBE
			if _, _, _, err := framer.next(nil); err != nil {
				t.Errorf("fake broker: read: %v", err)
				return
			}
		}
		go func() {
			for {
				ack := make([]byte, 4)
				if _, err := io.ReadFull(framer.r, ack); err != nil {
					return
				}
				acks <- ack
			}
		}()
		broker.Write(mqttPacket(0x20, []byte{0, 0}))
		broker.Write(mqttPacket(0x90, append([]byte{0, 1}, codes...)))
		for _, p := range packets {
			broker.Write(p)
		}
	}()
	err := s.start("test", []string{"a/#", "b/#"})
	t.Cleanup(func() {
		broker.Close()
		if err == nil {
			s.Close()
		}
	})
	return s, acks, got, err
}

// readOnly is a net.Conn that only reads from r, for reading the client's
// packets on the fake broker's side with rawSubscriber.next.
type readOnly struct{ r io.Reader }

func (c readOnly) Read(p []byte) (int, error)     { return c.r.Read(p) }
func (readOnly) Write(p []byte) (int, error)      { return 0, io.ErrClosedPipe }
func (readOnly) Close() error                     { return nil }
func (readOnly) LocalAddr() net.Addr              { return nil }
func (readOnly) RemoteAddr() net.Addr             { return nil }
func (readOnly) SetDeadline(time.Time) error      { return nil }
func (readOnly) SetReadDeadline(time.Time) error  { return nil }
func (readOnly) SetWriteDeadline(time.Time) error { return nil }

func publishPacket(qos byte, id uint16, topic, payload string) []byte {
	body := mqttString(topic)
	if qos > 0 {
		body = binary.BigEndian.AppendUint16(body, id)
	}
	return mqttPacket(0x30|qos<<1, append(body, payload...))
}

func TestRawSubscriber(t *testing.T) {
	long := strings.Repeat("x", 20000) // a three-byte remaining length
	packets := [][]byte{
		publishPacket(0, 0, "a/1", `{"fields":{}}`),
		publishPacket(1, 7, "b/2", "qos one"),
		publishPacket(1, 300, "a/3", long),
	}
	s, acks, got, err := fakeBroker(t, []byte{1, 0}, packets...)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	want := []publishRecord{
		{"a/1", `{"fields":{}}`, 0, len(packets[0])},
		{"b/2", "qos one", 1, len(packets[1])},
		{"a/3", long, 1, len(packets[2])},
	}
	for i, w := range want {
		if g := <-got; g != w {
			t.Errorf("publish %d: got %q %.20q qos %d size %d, want %q %.20q qos %d size %d",
				i, g.topic, g.payload, g.qos, g.size, w.topic, w.payload, w.qos, w.size)
		}
	}
	for _, id := range []uint16{7, 300} { // QoS 1 acknowledged, in order
		if ack := <-acks; !bytes.Equal(ack, []byte{0x40, 2, byte(id >> 8), byte(id)}) {
			t.Errorf("PUBACK for %d: %x", id, ack)
		}
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err = %v while reading", err)
	}
}

func TestRawSubscriberRefused(t *testing.T) {
	if _, _, _, err := fakeBroker(t, []byte{1, 0x80}); err == nil || !strings.Contains(err.Error(), "SUBACK refused") {
		t.Errorf("start = %v, want SUBACK refused", err)
	}
}

// TestRawSubscriberMosquitto: through mosquitto, messages arrive with the
// QoS their publisher chose (up to the subscription's 1), and the sizes are
// those of the packets on the wire.
func TestRawSubscriberMosquitto(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	got := make(chan publishRecord, 16)
	dialRawSubscriber(t, broker.URL, "raw", []string{"t/#"}, func(topic, payload []byte, qos byte, size int) {
		got <- publishRecord{string(topic), string(payload), qos, size}
	})
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker.URL).SetClientID("pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect publisher: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	for qos := range byte(3) {
		if tok := pub.Publish("t/q", qos, false, "payload"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish QoS %d: %v", qos, tok.Error())
		}
	}
	for _, wantQoS := range []byte{0, 1, 1} {
		select {
		case g := <-got:
			want := publishRecord{"t/q", "payload", wantQoS, len(publishPacket(wantQoS, 1, "t/q", "payload"))}
			if g != want {
				t.Errorf("got %+v, want %+v", g, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("timed out waiting for a message")
		}
	}
}
