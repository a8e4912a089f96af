package mqtt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// MQTT control packet types the proxy looks at.
const (
	pktPublish = 3
	pktPuback  = 4
)

// ackMode is what the proxy does with PUBACKs from the broker.
type ackMode int

const (
	ackPass    ackMode = iota // forward them
	ackHold                   // keep them until release
	ackSwallow                // drop them
)

// proxy is a TCP proxy between the publisher and a broker that parses MQTT
// packets so it can hold back or swallow PUBACKs, and counts the QoS 1
// PUBLISHes each connection has outstanding.
type proxy struct {
	t      testing.TB
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu             sync.Mutex
	mode           ackMode
	held           []heldAck
	heldTotal      int // PUBACKs ever held or swallowed
	maxOutstanding int // most QoS 1 PUBLISHes forwarded and not PUBACKed on one connection
	conns          []net.Conn
	changed        chan struct{}
}

type heldAck struct {
	to  *pipe
	pkt []byte
}

// pipe is one client connection and its broker connection.
type pipe struct {
	client, broker net.Conn
	outstanding    int
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target, changed: make(chan struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) url() string { return "tcp://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pp := &pipe{client: c, broker: b}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		p.wg.Go(func() { p.forward(pp, c, b, p.fromClient) })
		p.wg.Go(func() { p.forward(pp, b, c, p.fromBroker) })
	}
}

// forward copies packets from src to dst through handle; closing either end
// closes both.
func (p *proxy) forward(pp *pipe, src, dst net.Conn, handle func(*pipe, []byte, net.Conn) error) {
	defer src.Close()
	defer dst.Close()
	r := bufio.NewReader(src)
	for {
		pkt, err := readPacket(r)
		if err != nil {
			return
		}
		if handle(pp, pkt, dst) != nil {
			return
		}
	}
}

func (p *proxy) fromClient(pp *pipe, pkt []byte, dst net.Conn) error {
	p.mu.Lock()
	if pkt[0]>>4 == pktPublish && pkt[0]&0x06 != 0 {
		pp.outstanding++
		p.maxOutstanding = max(p.maxOutstanding, pp.outstanding)
	}
	p.mu.Unlock()
	_, err := dst.Write(pkt) // only this goroutine writes to the broker
	return err
}

func (p *proxy) fromBroker(pp *pipe, pkt []byte, dst net.Conn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pkt[0]>>4 != pktPuback || p.mode == ackPass {
		return p.deliver(pp, pkt)
	}
	p.heldTotal++
	if p.mode == ackHold {
		p.held = append(p.held, heldAck{pp, pkt})
	}
	p.notify()
	return nil
}

// deliver writes pkt to the client; the caller holds mu, which keeps
// released PUBACKs in order with new ones.
func (p *proxy) deliver(pp *pipe, pkt []byte) error {
	if pkt[0]>>4 == pktPuback {
		pp.outstanding--
	}
	_, err := pp.client.Write(pkt)
	return err
}

func (p *proxy) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// setMode changes what happens to PUBACKs from now on.
func (p *proxy) setMode(m ackMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
}

// release forwards the held PUBACKs and passes new ones.
func (p *proxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = ackPass
	for _, h := range p.held {
		_ = p.deliver(h.to, h.pkt) // the connection may be gone
	}
	p.held = nil
}

// dropConnections cuts every connection through the proxy.
func (p *proxy) dropConnections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// waitHeld waits until n PUBACKs were held or swallowed in all.
func (p *proxy) waitHeld(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		got, changed := p.heldTotal, p.changed
		p.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("held %d PUBACKs after %v; want %d", got, timeout, n)
		}
	}
}

func (p *proxy) outstandingMax() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxOutstanding
}

func (p *proxy) close() {
	p.ln.Close()
	p.dropConnections()
	p.wg.Wait()
}

// readPacket reads one MQTT control packet: a type byte, the remaining
// length as a variable byte integer, and the rest.
func readPacket(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	pkt := []byte{head}
	n, shift := 0, 0
	for i := 0; ; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if i == 4 {
			return nil, errors.New("remaining length longer than 4 bytes")
		}
		pkt = append(pkt, b)
		n |= int(b&0x7f) << shift
		shift += 7
		if b&0x80 == 0 {
			break
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("read packet body: %w", err)
	}
	return append(pkt, body...), nil
}
