package mqtt

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"factorybridge/internal/testenv"
	"factorybridge/publisher/internal/pubtest"
)

// only311 stands in for a broker without MQTT 5 in front of a real one
// (mosquitto 2.0 cannot be limited to 3.1.1): it answers an MQTT 5 CONNECT
// with answer, nil for none, and closes the connection; MQTT 3.1.1
// connections pass through to target.
type only311 struct {
	t      testing.TB
	ln     net.Listener
	target string
	answer []byte
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func startOnly311(t testing.TB, target string, answer []byte) *only311 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &only311{t: t, ln: ln, target: target, answer: answer}
	o.wg.Go(o.accept)
	t.Cleanup(o.close)
	return o
}

func (o *only311) url() string { return "tcp://" + o.ln.Addr().String() }

func (o *only311) accept() {
	for {
		c, err := o.ln.Accept()
		if err != nil {
			return
		}
		o.track(c)
		o.wg.Go(func() { o.serve(c) })
	}
}

func (o *only311) track(c net.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.conns = append(o.conns, c)
}

func (o *only311) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	connect, err := readPacket(r)
	if err != nil {
		return
	}
	if protocolLevel(connect) == 5 {
		if o.answer != nil {
			_, _ = c.Write(o.answer)
		}
		return
	}
	b, err := net.Dial("tcp", o.target)
	if err != nil {
		return
	}
	o.track(b)
	defer b.Close()
	if _, err := b.Write(connect); err != nil {
		return
	}
	go func() {
		_, _ = io.Copy(c, b)
		c.Close()
	}()
	_, _ = io.Copy(b, r)
}

// protocolLevel is the protocol level of a CONNECT packet: after the fixed
// header come the protocol name "MQTT" (6 bytes) and the level.
func protocolLevel(connect []byte) byte {
	i := 1
	for connect[i]&0x80 != 0 {
		i++
	}
	return connect[i+1+6]
}

func (o *only311) close() {
	o.ln.Close()
	o.mu.Lock()
	for _, c := range o.conns {
		c.Close()
	}
	o.mu.Unlock()
	o.wg.Wait()
}

// TestFallsBackToMQTT311: with protocol "auto", a broker that refuses
// MQTT 5, whichever way it does, gets every reading over MQTT 3.1.1, and
// the log says so once.
func TestFallsBackToMQTT311(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer []byte
	}{
		{"3.1.1 CONNACK", []byte{0x20, 2, 0, 1}},   // unacceptable protocol version
		{"5 CONNACK", []byte{0x20, 3, 0, 0x84, 0}}, // unsupported protocol version
		{"closed", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testenv.StartMosquitto(t)
			front := startOnly311(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port)), tc.answer)
			rec := subscribe(t, m.URL, "factorybridge/bridge-1/#")
			q := pubtest.NewMemQueue()
			want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(6), 2000))
			last := q.Append(want...)
			logger, logs := pubtest.CaptureLogger()
			opts := testOptions(t, front.url(), q)
			opts.Logger = logger
			runPublisher(t, opts)

			q.WaitAcked(t, last, waitLong)
			rec.waitReadings(t, len(want), waitLong)
			pubtest.CheckDelivery(t, rec.decoded(t), want, uint64(len(want)))
			if logs.Count("does not speak MQTT 5") != 1 || !logs.Contains("protocol=3.1.1") || logs.Contains("level=ERROR") {
				t.Errorf("want one WARN about the fallback and a 3.1.1 connection:\n%s", logs)
			}
		})
	}
}

// TestProtocol5DoesNotFallBack: with protocol "5" a broker without MQTT 5
// gets nothing, and the log says why.
func TestProtocol5DoesNotFallBack(t *testing.T) {
	m := testenv.StartMosquitto(t)
	front := startOnly311(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port)), []byte{0x20, 2, 0, 1})
	q := pubtest.NewMemQueue()
	q.Append(pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(3), 30))...)
	logger, logs := pubtest.CaptureLogger()
	opts := testOptions(t, front.url(), q)
	opts.Logger, opts.Protocol = logger, Protocol5
	runPublisher(t, opts)

	logs.WaitFor(t, waitLong, "MQTT 3.1.1 CONNACK, return code 1")
	if q.AckCount() != 0 {
		t.Fatalf("acked %d times", q.AckCount())
	}
}

// TestWebSocket: both protocols publish over MQTT over WebSocket (the MQTT 5
// client through its own net.Conn adapter).
func TestWebSocket(t *testing.T) {
	for _, proto := range protocolsUnderTest {
		t.Run(proto, func(t *testing.T) {
			b := startBrokerWith(t, brokerOptions{websocket: true})
			q := pubtest.NewMemQueue()
			want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(6), 2000))
			last := q.Append(want...)
			logger, logs := pubtest.CaptureLogger()
			opts := testOptions(t, b.url(), q)
			opts.Logger, opts.Protocol = logger, proto
			runPublisher(t, opts)

			q.WaitAcked(t, last, waitLong)
			pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
			if !logs.Contains("protocol=" + proto) {
				t.Errorf("not connected over MQTT %s:\n%s", proto, logs)
			}
		})
	}
}
