package uasc

import (
	"bytes"
	"encoding/binary"
	"net"
	"runtime"
	"testing"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uacp"
	"github.com/gopcua/opcua/uapolicy"
)

// mergeChunksAppend is mergeChunks before patch 8, the reference.
func mergeChunksAppend(chunks []*MessageChunk) []byte {
	if len(chunks) == 1 {
		return chunks[0].Data
	}
	var b []byte
	var seqnr uint32
	for _, c := range chunks {
		if c.SequenceHeader.SequenceNumber == seqnr {
			continue // duplicate chunk
		}
		seqnr = c.SequenceHeader.SequenceNumber
		b = append(b, c.Data...)
	}
	return b
}

func testChunk(seq uint32, data string) *MessageChunk {
	return &MessageChunk{MessageHeader: &MessageHeader{SequenceHeader: &SequenceHeader{SequenceNumber: seq}}, Data: []byte(data)}
}

// TestPatchMergeChunks: patch 8's mergeChunks returns what the appending
// one did, duplicates dropped alike, in one allocation of the message's
// size.
func TestPatchMergeChunks(t *testing.T) {
	for _, chunks := range [][]*MessageChunk{
		{testChunk(1, "abc")},
		{testChunk(1, "abc"), testChunk(2, "de"), testChunk(3, "f")},
		{testChunk(1, "abc"), testChunk(1, "abc"), testChunk(2, "de")}, // a duplicate
		{testChunk(0, "xyz"), testChunk(5, "ab"), testChunk(6, "")},    // sequence number 0 first
		{testChunk(7, ""), testChunk(8, "")},
	} {
		got, err := mergeChunks(chunks)
		if want := mergeChunksAppend(chunks); err != nil || !bytes.Equal(got, want) {
			t.Errorf("mergeChunks = %q, %v; want %q", got, err, want)
		}
		if len(chunks) > 1 && cap(got) != len(got) {
			t.Errorf("mergeChunks of %d bytes has capacity %d", len(got), cap(got))
		}
	}
	big := []*MessageChunk{testChunk(1, string(make([]byte, 60000))), testChunk(2, string(make([]byte, 60000))), testChunk(3, string(make([]byte, 60000)))}
	if n := testing.AllocsPerRun(10, func() { mergeChunks(big) }); n != 1 {
		t.Errorf("mergeChunks of 3 chunks: %.0f allocations, want 1", n)
	}
}

// plainChannel returns a client channel without security over a loopback
// TCP connection whose other end is peer, with one channel instance (id 7).
func plainChannel(t *testing.T) (s *SecureChannel, peer net.Conn) {
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
	ack := &uacp.Acknowledge{ReceiveBufSize: uacp.DefaultReceiveBufSize, SendBufSize: uacp.DefaultSendBufSize,
		MaxChunkCount: 16, MaxMessageSize: 1 << 20} // as the handshake leaves them
	conn, err := uacp.NewConn(cli.(*net.TCPConn), ack)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{SecurityPolicyURI: ua.SecurityPolicyURINone, SecurityMode: ua.MessageSecurityModeNone}
	s, err = NewSecureChannel("opc.tcp://127.0.0.1", conn, cfg, make(chan error, 1))
	if err != nil {
		t.Fatal(err)
	}
	algo, err := uapolicy.Symmetric(ua.SecurityPolicyURINone, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	inst := newChannelInstance(s)
	inst.algo = algo
	s.instances[7] = []*channelInstance{inst}
	return s, peer
}

// msgChunk is a MSG chunk of channel 7, token 1, request 1 with data.
func msgChunk(chunkType byte, seq uint32, data []byte) []byte {
	b := append([]byte("MSG"), chunkType)
	b = binary.LittleEndian.AppendUint32(b, uint32(24+len(data)))
	for _, v := range []uint32{7, 1, seq, 1} { // channel, token, sequence number, request id
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return append(b, data...)
}

// TestPatchReceiveCopiesOnce: receiving a message of three chunks
// allocates each chunk's receive buffer and the merged message, and not
// a string copy of every chunk (made for a debug message) or the merged
// message's growth.
func TestPatchReceiveCopiesOnce(t *testing.T) {
	s, peer := plainChannel(t)
	const chunk = 60000
	var wire []byte
	for seq := uint32(1); seq <= 3; seq++ {
		typ := byte('C')
		if seq == 3 {
			typ = 'F'
		}
		wire = append(wire, msgChunk(typ, seq, make([]byte, chunk))...)
	}
	go peer.Write(wire)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	receive(t, s) // the body is no service: an error, after the merge
	runtime.ReadMemStats(&after)
	limit := uint64(3*s.c.ReceiveBufSize() + 3*chunk + 16<<10)
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("receiving 3 chunks of %d bytes allocated %d bytes, want at most %d", chunk, got, limit)
	}
}
