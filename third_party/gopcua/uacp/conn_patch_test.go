package uacp

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// ackServer listens on loopback and answers the first HEL with ack, then
// sends extra raw bytes; it returns the endpoint URL.
func ackServer(t *testing.T, ack *Acknowledge, extra []byte) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		hdr := make([]byte, hdrlen)
		if _, err := io.ReadFull(c, hdr); err != nil {
			return
		}
		if _, err := io.ReadFull(c, make([]byte, binary.LittleEndian.Uint32(hdr[4:])-hdrlen)); err != nil {
			return
		}
		body, _ := ack.Encode()
		msg := append([]byte("ACKF"), binary.LittleEndian.AppendUint32(nil, uint32(hdrlen+len(body)))...)
		c.Write(append(append(msg, body...), extra...))
		io.Copy(io.Discard, c) // until the client closes
	}()
	return "opc.tcp://" + l.Addr().String()
}

func dialTest(t *testing.T, endpoint string) (*Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return Dial(ctx, endpoint)
}

// TestPatchClientLimitsIgnoreHugeACK: a server's ACK announcing 2 GiB
// buffers and no message or chunk limit used to become the client's own
// receive limits, so every Receive allocated 2 GiB. The client now keeps
// the limits of its Hello, and a message beyond them is refused unread.
func TestPatchClientLimitsIgnoreHugeACK(t *testing.T) {
	huge := &Acknowledge{ReceiveBufSize: 1 << 31, SendBufSize: 1 << 31, MaxMessageSize: 1<<32 - 1, MaxChunkCount: 1<<32 - 1}
	oversized := append([]byte("MSGF"), binary.LittleEndian.AppendUint32(nil, 1<<30)...)
	c, err := dialTest(t, ackServer(t, huge, oversized))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := [4]uint32{c.ReceiveBufSize(), c.SendBufSize(), c.MaxMessageSize(), c.MaxChunkCount()}
	want := [4]uint32{DefaultReceiveBufSize, DefaultSendBufSize, DefaultMaxMessageSize, DefaultMaxChunkCount}
	if got != want {
		t.Errorf("limits (receive, send, message, chunks) = %v, want %v", got, want)
	}
	if _, err := c.Receive(); err == nil || !strings.Contains(err.Error(), "message too large") {
		t.Errorf("Receive of a 1 GiB message: %v, want message too large", err)
	}
}

// TestPatchClientLimitsKeepSmallerSendBuffer: the client never sends chunks
// larger than the server can receive, and a configured message size limit
// stays the client's.
func TestPatchClientLimitsKeepSmallerSendBuffer(t *testing.T) {
	ack := &Acknowledge{ReceiveBufSize: 8192, SendBufSize: 8192, MaxMessageSize: 1 << 20, MaxChunkCount: 4}
	c, err := dialTest(t, ackServer(t, ack, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.SendBufSize() != 8192 || c.ReceiveBufSize() != DefaultReceiveBufSize {
		t.Errorf("send %d, receive %d: want 8192, %d", c.SendBufSize(), c.ReceiveBufSize(), DefaultReceiveBufSize)
	}
}

// TestPatchClientLimitsRefuseTinyACK: buffer sizes below the protocol's
// minimum would leave no room for a chunk's headers; the handshake fails.
func TestPatchClientLimitsRefuseTinyACK(t *testing.T) {
	for _, ack := range []*Acknowledge{{ReceiveBufSize: 0, SendBufSize: 8192}, {ReceiveBufSize: 8192, SendBufSize: 16}} {
		if c, err := dialTest(t, ackServer(t, ack, nil)); err == nil {
			c.Close()
			t.Errorf("ACK %+v accepted", ack)
		}
	}
}
