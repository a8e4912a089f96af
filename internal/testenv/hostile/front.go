package hostile

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
)

// front forwards connections to the gopcua server and rewrites the
// server's messages as Options ask. It reads them whole, by the UACP
// header's size.
type front struct {
	ln      net.Listener
	backend string
	opts    Options
	wg      sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

func startFront(t testing.TB, addr, backend string, opts Options) *front {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("hostile front: %v", err)
	}
	f := &front{ln: ln, backend: backend, opts: opts}
	f.wg.Go(f.accept)
	return f
}

func (f *front) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", f.backend)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, c, s)
		f.mu.Unlock()
		f.wg.Go(func() { io.Copy(s, c); s.Close() })
		f.wg.Go(func() { f.serverToClient(s, c); c.Close() })
	}
}

// serverToClient copies the server's messages to the client, rewritten.
func (f *front) serverToClient(s, c net.Conn) {
	hdr := make([]byte, 8)
	for {
		if _, err := io.ReadFull(s, hdr); err != nil {
			return
		}
		msg := make([]byte, binary.LittleEndian.Uint32(hdr[4:]))
		copy(msg, hdr)
		if len(msg) < 8 {
			return
		}
		if _, err := io.ReadFull(s, msg[8:]); err != nil {
			return
		}
		if _, err := c.Write(f.rewrite(msg)); err != nil {
			return
		}
	}
}

// namespaceArray is how the NamespaceArray value starts after its length:
// its first element, the OPC UA namespace URI.
var namespaceArray = append([]byte{28, 0, 0, 0}, "http://opcfoundation.org/UA/"...)

// rewrite applies Options to one server message.
func (f *front) rewrite(msg []byte) []byte {
	switch typ := string(msg[:3]); {
	case typ == "ACK" && f.opts.HugeAck && len(msg) >= 28:
		binary.LittleEndian.PutUint32(msg[12:], 1<<31)   // ReceiveBufSize
		binary.LittleEndian.PutUint32(msg[16:], 1<<31)   // SendBufSize
		binary.LittleEndian.PutUint32(msg[20:], 1<<32-1) // MaxMessageSize
		binary.LittleEndian.PutUint32(msg[24:], 1<<32-1) // MaxChunkCount
	case typ == "MSG" && f.opts.NegativeArray:
		// a String array variant (0x8C), its length, then the first URI
		if i := bytes.Index(msg, namespaceArray); i >= 5 && msg[i-5] == 0x8C {
			binary.LittleEndian.PutUint32(msg[i-4:], uint32(0xFFFFFFFE)) // -2
		}
	}
	return msg
}

func (f *front) close() {
	f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}
