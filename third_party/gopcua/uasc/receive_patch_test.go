package uasc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uacp"
	"github.com/gopcua/opcua/uapolicy"
)

// signedChannel returns a client channel in Sign mode over a loopback TCP
// connection whose other end is peer, with one channel instance (id 7)
// using algo.
func signedChannel(t *testing.T, algo *uapolicy.EncryptionAlgorithm) (s *SecureChannel, peer net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cli, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close(); peer.Close() })
	conn, err := uacp.NewConn(cli.(*net.TCPConn), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{SecurityPolicyURI: ua.SecurityPolicyURIBasic256Sha256, SecurityMode: ua.MessageSecurityModeSign, LocalKey: key}
	s, err = NewSecureChannel("opc.tcp://127.0.0.1", conn, cfg, make(chan error, 1))
	if err != nil {
		t.Fatal(err)
	}
	inst := newChannelInstance(s)
	inst.algo = algo
	s.instances[7] = []*channelInstance{inst}
	return s, peer
}

// shortChunk is a final MSG chunk of channel 7 with its headers and no
// body or signature: 24 bytes.
func shortChunk() []byte {
	b := append([]byte("MSGF"), binary.LittleEndian.AppendUint32(nil, 24)...)
	for _, v := range []uint32{7, 1, 1, 1} { // channel, token, sequence number, request id
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func receive(t *testing.T, s *SecureChannel) *MessageBody {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Receive(ctx)
}

// TestPatchShortSignedChunk: on a signed channel, a chunk shorter than
// its headers and signature made verifyAndDecrypt slice out of range and
// panic on the receive goroutine, ending the process. It is now refused.
func TestPatchShortSignedChunk(t *testing.T) {
	algo, err := uapolicy.Symmetric(ua.SecurityPolicyURIBasic256Sha256, make([]byte, 32), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	s, peer := signedChannel(t, algo)
	if _, err := peer.Write(shortChunk()); err != nil {
		t.Fatal(err)
	}
	if msg := receive(t, s); msg.Err == nil {
		t.Fatalf("a short signed chunk was accepted: %+v", msg)
	}
}

// TestPatchReceiveRecovers: whatever panics while a message is read or
// decoded (here a channel instance without algorithm) becomes an error of
// Receive, and the connection is closed.
func TestPatchReceiveRecovers(t *testing.T) {
	s, peer := signedChannel(t, nil)
	if _, err := peer.Write(shortChunk()); err != nil {
		t.Fatal(err)
	}
	msg := receive(t, s)
	if msg.Err == nil || !strings.Contains(msg.Err.Error(), "malformed message") {
		t.Fatalf("Receive = %+v, want a malformed message error", msg)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := peer.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the peer reads %v, want EOF: the connection stays open", err)
	}
}
