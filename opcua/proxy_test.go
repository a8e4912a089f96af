package opcua

import (
	"fmt"
	"net"
	"net/url"
	"sync"
	"testing"
)

// silentProxy forwards TCP connections to a server until silence is called;
// from then on the connections open at that moment stay open but carry
// nothing in either direction (what a dead switch or a hung server looks
// like). Connections accepted later are forwarded normally.
type silentProxy struct {
	Endpoint string
	ln       net.Listener
	target   string
	mu       sync.Mutex
	conns    []*proxyConn
	wg       sync.WaitGroup
}

type proxyConn struct {
	client, server net.Conn
	mu             sync.Mutex
	silent         bool
}

// startProxy proxies to the opc.tcp endpoint and closes everything when the
// test ends.
func startProxy(t testing.TB, endpoint string) *silentProxy {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatalf("parse %s: %v", endpoint, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	p := &silentProxy{ln: ln, target: u.Host, Endpoint: fmt.Sprintf("opc.tcp://%s", ln.Addr())}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *silentProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pc := &proxyConn{client: c, server: s}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		p.wg.Go(func() { pc.pipe(s, c) })
		p.wg.Go(func() { pc.pipe(c, s) })
	}
}

// pipe copies src to dst; once silent it keeps reading (so the sender never
// sees backpressure or an error) and drops everything.
func (pc *proxyConn) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		pc.mu.Lock()
		silent := pc.silent
		pc.mu.Unlock()
		if silent {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			src.Close()
			return
		}
	}
}

// silence stops forwarding on every connection open now.
func (p *silentProxy) silence() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.conns {
		pc.mu.Lock()
		pc.silent = true
		pc.mu.Unlock()
	}
}

func (p *silentProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, pc := range p.conns {
		pc.client.Close()
		pc.server.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
