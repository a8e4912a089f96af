package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawSubscriber is a minimal MQTT 3.1.1 subscriber for BenchmarkPeers: it
// reads PUBLISH packets into one reused buffer and hands topic, payload,
// QoS and packet size to a function, in the reading goroutine. Counting
// with paho's client took about 24 % of a core at Telegraf's 10,000
// messages/s (goroutine hand-offs and allocations per packet), taken from
// the programs being measured; this one takes 3 % (rawSubscriberNap).
// It acknowledges QoS 1 (it subscribes with QoS 1, so nothing arrives at
// QoS 2), sends no keep-alives (keep-alive 0) and does not reconnect: a
// lost connection ends the benchmark (Err).
type rawSubscriber struct {
	conn   net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	handle func(topic, payload []byte, qos byte, size int)
	done   chan struct{} // closed when read has returned

	mu     sync.Mutex
	err    error // why read stopped, unless Close stopped it
	closed bool
}

// MQTT 3.1.1 control packet types (the high nibble of the first byte).
const (
	mqttConnack  = 2
	mqttPublish  = 3
	mqttPuback   = 4
	mqttSuback   = 9
	mqttPingresp = 13
)

const rawSubscriberTimeout = 10 * time.Second

// rawSubscriberNap is how long the subscriber waits after it has read all
// that had arrived, so that the next read finds many messages rather than
// one. Woken for every message, the counter took 10 % of a core at
// Telegraf's 10,000 messages/s; with the nap, 3 % (BenchmarkPeers,
// counter-cpu-%, 1,000 nodes). What arrives meanwhile waits in the socket's
// buffer (54 KB per millisecond at 300,000 Telegraf metrics/s).
const rawSubscriberNap = time.Millisecond

// dialRawSubscriber connects to the broker at url (tcp://host:port),
// subscribes to topics with QoS 1 and, once the broker has acknowledged the
// subscription, calls handle for every PUBLISH until the test ends.
func dialRawSubscriber(tb testing.TB, url, clientID string, topics []string, handle func(topic, payload []byte, qos byte, size int)) *rawSubscriber {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "tcp://"), rawSubscriberTimeout)
	if err != nil {
		tb.Fatalf("connect subscriber: %v", err)
	}
	s := newRawSubscriber(conn, handle)
	if err := s.start(clientID, topics); err != nil {
		conn.Close()
		tb.Fatalf("start subscriber: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

func newRawSubscriber(conn net.Conn, handle func(topic, payload []byte, qos byte, size int)) *rawSubscriber {
	return &rawSubscriber{conn: conn, r: bufio.NewReaderSize(conn, 256<<10), w: bufio.NewWriter(conn),
		handle: handle, done: make(chan struct{})}
}

// start sends CONNECT and SUBSCRIBE, waits for CONNACK and SUBACK, and
// starts reading.
func (s *rawSubscriber) start(clientID string, topics []string) error {
	_ = s.conn.SetDeadline(time.Now().Add(rawSubscriberTimeout))
	connect := append([]byte{0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 0}, mqttString(clientID)...) // clean session, keep-alive 0
	subscribe := []byte{0, 1}                                                                   // packet id 1
	for _, t := range topics {
		subscribe = append(append(subscribe, mqttString(t)...), 1)
	}
	s.w.Write(mqttPacket(0x10, connect))
	s.w.Write(mqttPacket(0x82, subscribe))
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("send CONNECT: %w", err)
	}
	typ, body, _, err := s.next(nil)
	if err == nil && (typ != mqttConnack || len(body) != 3 || body[2] != 0) { // flags, session present, code
		err = fmt.Errorf("CONNACK: packet type %d, %x", typ, body)
	}
	for err == nil && typ != mqttSuback {
		var size int
		if typ, body, size, err = s.next(nil); err == nil {
			err = s.dispatch(typ, body, size)
		}
	}
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	_ = s.conn.SetDeadline(time.Time{})
	go s.read()
	return nil
}

// read handles packets until the connection ends.
func (s *rawSubscriber) read() {
	defer close(s.done)
	var buf []byte
	for {
		typ, body, size, err := s.next(buf[:0])
		if err == nil {
			err = s.dispatch(typ, body, size)
		}
		if err == nil && s.r.Buffered() == 0 {
			err = s.w.Flush() // the acknowledgements of what was read so far
			time.Sleep(rawSubscriberNap)
		}
		if err != nil {
			s.stop(err)
			return
		}
		buf = body
	}
}

func (s *rawSubscriber) dispatch(typ byte, body []byte, size int) error {
	switch typ {
	case mqttPublish:
		return s.publish(body, size)
	case mqttSuback:
		// flags, packet id, then one return code per topic
		if len(body) < 4 || strings.Contains(string(body[3:]), "\x80") {
			return fmt.Errorf("SUBACK refused a topic: %x", body)
		}
	case mqttPingresp:
	default:
		return fmt.Errorf("unexpected packet type %d", typ)
	}
	return nil
}

// publish parses a PUBLISH body (flags in its first byte, see next),
// hands it on and acknowledges QoS 1.
func (s *rawSubscriber) publish(body []byte, size int) error {
	qos := body[0] >> 1 & 3
	p := body[1:]
	if len(p) < 2 || len(p) < 2+int(binary.BigEndian.Uint16(p)) {
		return errors.New("PUBLISH: short topic")
	}
	n := int(binary.BigEndian.Uint16(p))
	topic, p := p[2:2+n], p[2+n:]
	if qos > 0 {
		if len(p) < 2 {
			return errors.New("PUBLISH: no packet id")
		}
		s.w.Write([]byte{mqttPuback << 4, 2, p[0], p[1]})
		p = p[2:]
	}
	s.handle(topic, p, qos, size)
	return nil
}

// next reads one packet into buf: its type, its body with the fixed
// header's flags as the first byte, and its size on the wire.
func (s *rawSubscriber) next(buf []byte) (typ byte, body []byte, size int, err error) {
	head, err := s.r.ReadByte()
	if err != nil {
		return 0, nil, 0, err
	}
	length, lenBytes := 0, 0
	for shift := 0; ; shift += 7 {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, nil, 0, err
		}
		if lenBytes++; lenBytes > 4 {
			return 0, nil, 0, errors.New("malformed remaining length")
		}
		length |= int(c&0x7f) << shift
		if c&0x80 == 0 {
			break
		}
	}
	body = append(buf, head&0x0f)
	body = append(body, make([]byte, length)...)
	if _, err := io.ReadFull(s.r, body[1:]); err != nil {
		return 0, nil, 0, err
	}
	return head >> 4, body, 1 + lenBytes + length, nil
}

func (s *rawSubscriber) stop(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.err = err
	}
}

// Err returns why the subscriber stopped reading, nil while it reads.
func (s *rawSubscriber) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close disconnects and waits for the reading goroutine to end.
func (s *rawSubscriber) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.conn.Close()
	<-s.done
}

// mqttPacket frames body as a control packet with the first byte head.
func mqttPacket(head byte, body []byte) []byte {
	p := []byte{head}
	n := len(body)
	for {
		c := byte(n & 0x7f)
		if n >>= 7; n > 0 {
			c |= 0x80
		}
		p = append(p, c)
		if n == 0 {
			break
		}
	}
	return append(p, body...)
}

func mqttString(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}
