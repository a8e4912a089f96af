package mqtt

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/eclipse/paho.golang/packets"
	pahosession "github.com/eclipse/paho.golang/paho/session"
	"github.com/eclipse/paho.golang/paho/session/state"
	"github.com/eclipse/paho.golang/paho/store/memory"
)

// errSessionLost fails the messages in flight when the broker no longer has
// the session they were sent in: they are read again from the Queue.
var errSessionLost = errors.New("the broker did not keep the session; in-flight messages are sent again")

// state5 is paho.golang's session state (which resends unacknowledged
// PUBLISHes when a connection resumes the session) with two additions:
//
//   - each QoS 1 PUBLISH's PUBACK completes a token of ours with its
//     reason code. paho's blocking Publish would report it too, but only
//     from a goroutine per message, and goroutines do not keep the order
//     in which messages are written; its asynchronous Publish writes in
//     order but reports nothing. So the session publishes asynchronously
//     and state5 reports.
//   - messages are stored with their full topic and no topic alias: an
//     alias is valid only on the connection it was set up on, and a stored
//     PUBLISH is resent on the next one; and they are stored without a
//     copy of their payload (publishStore).
//
// One state5 serves every MQTT 5 connection of a Publisher.
type state5 struct {
	*state.State

	mu     sync.Mutex
	next   *token5 // the token of the PUBLISH being added (publish holds client5.mu)
	topic  string  // and its full topic
	tokens map[uint16]*token5
	keep   bool // the session outlives a connection (session expiry above zero)
}

var _ pahosession.SessionManager = (*state5)(nil)

func newState5(keep bool) *state5 {
	s := &state5{tokens: map[uint16]*token5{}, keep: keep}
	s.State = state.New(newPublishStore(s), memory.New())
	return s
}

// expect makes t the token of the next PUBLISH added, whose full topic is topic.
func (s *state5) expect(t *token5, topic string) {
	s.mu.Lock()
	s.next, s.topic = t, topic
	s.mu.Unlock()
}

// AddToSession registers the expected token under the PUBLISH's packet id.
// Nothing can answer the packet before it returns: paho writes it after.
func (s *state5) AddToSession(ctx context.Context, p pahosession.Packet, resp chan<- packets.ControlPacket) error {
	if p.Type() != packets.PUBLISH {
		return s.State.AddToSession(ctx, p, resp)
	}
	s.mu.Lock()
	t := s.next
	s.mu.Unlock()
	if t == nil {
		return s.State.AddToSession(ctx, p, resp)
	}
	if err := s.State.AddToSession(ctx, p, t.resp); err != nil {
		return err
	}
	s.mu.Lock()
	s.tokens[p.(*packets.Publish).PacketID] = t
	s.next, s.topic = nil, ""
	s.mu.Unlock()
	return nil
}

// PacketReceived completes the token of a PUBACK.
func (s *state5) PacketReceived(cp *packets.ControlPacket, pubs chan<- *packets.Publish) error {
	err := s.State.PacketReceived(cp, pubs)
	if pa, ok := cp.Content.(*packets.Puback); ok {
		s.mu.Lock()
		t := s.tokens[pa.PacketID]
		delete(s.tokens, pa.PacketID)
		s.mu.Unlock()
		if t != nil {
			t.finish(pubackErr(pa))
		}
	}
	return err
}

// ConAckReceived fails the messages in flight when the broker has not kept
// the session: paho then forgets them without a word.
func (s *state5) ConAckReceived(w io.Writer, cp *packets.Connect, ca *packets.Connack) error {
	if !ca.SessionPresent {
		s.failAll(errSessionLost)
	}
	return s.State.ConAckReceived(w, cp, ca)
}

// ConnectionLost fails the messages in flight when the session ends with
// the connection.
func (s *state5) ConnectionLost(dp *packets.Disconnect) error {
	err := s.State.ConnectionLost(dp)
	if !s.keep {
		s.failAll(errSessionLost)
	}
	return err
}

// failAll completes every pending token with err.
func (s *state5) failAll(err error) {
	s.mu.Lock()
	ts := s.tokens
	s.tokens = map[uint16]*token5{}
	s.mu.Unlock()
	for _, t := range ts {
		t.finish(err)
	}
}

func pubackErr(pa *packets.Puback) error {
	if pa.ReasonCode < 0x80 {
		return nil
	}
	re := &ReasonError{Packet: "PUBACK", Code: pa.ReasonCode}
	if pa.Properties != nil {
		re.Reason = pa.Properties.ReasonString
	}
	return re
}

// token5 is the answer to one MQTT 5 PUBLISH.
type token5 struct {
	done chan struct{}
	once sync.Once
	err  error
	resp chan packets.ControlPacket // paho's notification; read by nobody
}

func newToken5() *token5 {
	return &token5{done: make(chan struct{}), resp: make(chan packets.ControlPacket, 1)}
}

func (t *token5) finish(err error) {
	t.once.Do(func() {
		t.err = err
		close(t.done)
	})
}

func (t *token5) Done() <-chan struct{} { return t.done }

// Err is valid once Done is closed.
func (t *token5) Err() error { return t.err }
