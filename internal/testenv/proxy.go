package testenv

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections on 127.0.0.1 to a target, and can cut them
// (close every open connection) or stall them (keep connections open but
// carry nothing, as a hung server or a dead switch does). It closes
// everything when the test ends.
type Proxy struct {
	// Addr is the proxy's host:port.
	Addr string

	target string
	ln     net.Listener
	wg     sync.WaitGroup

	mu      sync.Mutex
	conns   map[*proxyConn]struct{}
	stalled bool
	closed  bool
}

type proxyConn struct {
	client, server net.Conn
	mu             sync.Mutex
	stalled        bool
}

// StartProxy proxies to target (host:port).
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[*proxyConn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// StartSilentListener accepts TCP connections on 127.0.0.1 and never
// answers or closes them: a server that accepts and hangs. It returns the
// host:port.
func StartSilentListener(t testing.TB) string {
	t.Helper()
	p := StartProxy(t, "127.0.0.1:1") // never dialled while stalled
	p.Stall()
	return p.Addr
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		stalled := p.stalled
		p.mu.Unlock()
		pc := &proxyConn{client: c, stalled: stalled}
		if !stalled {
			if pc.server, err = net.Dial("tcp", p.target); err != nil {
				c.Close()
				continue
			}
		}
		if !p.track(pc) {
			return
		}
		p.wg.Go(func() { pc.pipe(pc.client, pc.server) })
		if pc.server != nil {
			p.wg.Go(func() { pc.pipe(pc.server, pc.client) })
		}
	}
}

// track registers pc unless the proxy is closed.
func (p *Proxy) track(pc *proxyConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		pc.close()
		return false
	}
	p.conns[pc] = struct{}{}
	return true
}

// pipe copies src to dst; while stalled it keeps reading (so the sender
// sees neither backpressure nor an error) and drops what it reads. dst nil
// drops everything.
func (pc *proxyConn) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			pc.close()
			return
		}
		pc.mu.Lock()
		stalled := pc.stalled
		pc.mu.Unlock()
		if stalled || dst == nil {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			pc.close()
			return
		}
	}
}

func (pc *proxyConn) close() {
	pc.client.Close()
	if pc.server != nil {
		pc.server.Close()
	}
}

// Cut closes every connection open now, as a server crash or a reset
// does. New connections are served as before.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pc := range p.conns {
		pc.close()
		delete(p.conns, pc)
	}
}

// Stall stops carrying data on every open connection and on those accepted
// until Resume. The connections stay open.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
	for pc := range p.conns {
		pc.mu.Lock()
		pc.stalled = true
		pc.mu.Unlock()
	}
}

// Resume forwards connections accepted from now on; those stalled stay
// stalled, as a half-dead connection does.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = false
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for pc := range p.conns {
		pc.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
