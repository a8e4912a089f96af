package uasc

import (
	"net"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uacp"
)

// noneChannel returns a client channel with security None over a loopback
// TCP connection; its renewal and expiry goroutines end with the test.
func noneChannel(t *testing.T, lifetime time.Duration) *SecureChannel {
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
	peer, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := uacp.NewConn(cli.(*net.TCPConn), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{SecurityPolicyURI: ua.SecurityPolicyURINone, SecurityMode: ua.MessageSecurityModeNone,
		Lifetime: uint32(lifetime / time.Millisecond)}
	s, err := NewSecureChannel("opc.tcp://127.0.0.1", conn, cfg, make(chan error, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(s.closing); cli.Close(); peer.Close() })
	return s
}

// issue hands the channel an OpenSecureChannelResponse for a token the
// server says it created at createdAt, by its own clock.
func issue(t *testing.T, s *SecureChannel, channelID, tokenID uint32, createdAt time.Time, lifetime time.Duration) *channelInstance {
	t.Helper()
	inst := newChannelInstance(s)
	s.openingInstance = inst
	resp := &ua.OpenSecureChannelResponse{
		ResponseHeader: &ua.ResponseHeader{Timestamp: createdAt},
		SecurityToken: &ua.ChannelSecurityToken{ChannelID: channelID, TokenID: tokenID,
			CreatedAt: createdAt, RevisedLifetime: uint32(lifetime / time.Millisecond)},
	}
	if err := s.handleOpenSecureChannelResponse(resp, nil, inst); err != nil {
		t.Fatal(err)
	}
	return inst
}

func hasToken(s *SecureChannel, channelID, tokenID uint32) bool {
	for _, inst := range s.getInstancesBySecureChannelID(channelID) {
		if inst.securityTokenID == tokenID {
			return true
		}
	}
	return false
}

// TestPatchTokenOnLocalClock: a token's lifetime runs on the client's clock
// from the moment its response arrived. A server two hours behind (its
// CreatedAt two hours old) made the token expire on arrival: with equal
// channel and token ids, the expiry removed the channel's only instance, and
// every response after it was dropped (the client saw StatusBadTimeout).
func TestPatchTokenOnLocalClock(t *testing.T) {
	const lifetime = time.Hour
	for _, skew := range []time.Duration{-2 * time.Hour, 2 * time.Hour, 0} {
		s := noneChannel(t, lifetime)
		before := time.Now()
		inst := issue(t, s, 5, 5, time.Now().Add(skew), lifetime)
		after := time.Now()
		if inst.createdAt.Before(before) || inst.createdAt.After(after) {
			t.Errorf("skew %v: createdAt %v, want the local receive time in [%v, %v]", skew, inst.createdAt, before, after)
		}
		time.Sleep(100 * time.Millisecond) // an expiry due on arrival has run by now
		if !hasToken(s, 5, 5) {
			t.Errorf("skew %v: the token was dropped on arrival", skew)
		}
	}
}

// TestPatchTokenExpiresPerChannel: an expired token's instance is removed
// from its channel's list and the newer token stays. The expiry looked the
// instances up by token id, so it removed nothing, or the wrong channel's.
func TestPatchTokenExpiresPerChannel(t *testing.T) {
	s := noneChannel(t, time.Hour)
	token := func(id uint32) *channelInstance {
		inst := newChannelInstance(s)
		inst.secureChannelID, inst.securityTokenID, inst.state = 5, id, channelActive
		inst.createdAt, inst.revisedLifetime = time.Now(), 200*time.Millisecond
		return inst
	}
	old := token(4)
	s.instances[5] = []*channelInstance{old, token(6)}
	done := make(chan struct{})
	go func() { s.scheduleExpiration(old); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the token did not expire")
	}
	if hasToken(s, 5, 4) || !hasToken(s, 5, 6) {
		t.Errorf("after token 4 expired, channel 5 has tokens 4: %v, 6: %v; want only 6", hasToken(s, 5, 4), hasToken(s, 5, 6))
	}
}
