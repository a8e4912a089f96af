package mqtt

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/eclipse/paho.golang/packets"
)

// publishStore is the store of the PUBLISHes paho's session state keeps
// until they are acknowledged (and resends when a connection resumes the
// session). paho's memory store serializes each packet into a buffer of
// its own: a copy of every message in flight (up to 256 KiB each, 2 % of
// the bridge's allocations). publishStore keeps the packet and writes it
// only when paho reads it back to resend it. That is safe because a
// message's payload does not change while the store holds it: the
// Publisher reuses a payload's buffer only after the message's PUBACK, and
// paho deletes the packet before it reports the PUBACK (state5.PacketReceived);
// a payload of a message lost with a connection is never reused.
//
// PUBLISHes are kept with their full topic and no topic alias, so that a
// resumed session resends them in a form the next connection understands.
type publishStore struct {
	s *state5 // the full topic of the PUBLISH being added

	mu      sync.Mutex
	packets map[uint16]storedPacket
	n       int // packets put, for List's order
}

// storedPacket is a PUBLISH (pub) or another packet, serialized (raw).
type storedPacket struct {
	n   int
	pub *packets.Publish
	raw []byte
}

func newPublishStore(s *state5) *publishStore {
	return &publishStore{s: s, packets: map[uint16]storedPacket{}}
}

// Put stores a copy of a PUBLISH's fields (its payload shared), other
// packets serialized.
func (f *publishStore) Put(id uint16, typ byte, w io.WriterTo) error {
	sp := storedPacket{pub: f.fullTopic(w)}
	if sp.pub == nil {
		var b bytes.Buffer
		if _, err := w.WriteTo(&b); err != nil {
			return fmt.Errorf("store packet %d: %w", id, err)
		}
		sp.raw = b.Bytes()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	sp.n = f.n
	f.n++
	f.packets[id] = sp
	return nil
}

// fullTopic returns a copy of w if it is a PUBLISH, with its full topic
// in place of a topic alias; nil otherwise.
func (f *publishStore) fullTopic(w io.WriterTo) *packets.Publish {
	p, ok := w.(*packets.Publish)
	if !ok {
		return nil
	}
	c := *p
	if p.Properties != nil {
		props := *p.Properties
		c.Properties = &props
		if props.TopicAlias != nil {
			props.TopicAlias = nil
			f.s.mu.Lock()
			c.Topic = f.s.topic
			f.s.mu.Unlock()
		}
	}
	return &c
}

// Get writes the packet out for paho to read.
func (f *publishStore) Get(id uint16) (io.ReadCloser, error) {
	f.mu.Lock()
	sp, ok := f.packets[id]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("get packet %d: not in the store", id)
	}
	if sp.pub == nil {
		return io.NopCloser(bytes.NewReader(sp.raw)), nil
	}
	var b bytes.Buffer
	if _, err := sp.pub.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("get packet %d: %w", id, err)
	}
	return io.NopCloser(&b), nil
}

// Delete forgets a packet.
func (f *publishStore) Delete(id uint16) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.packets[id]; !ok {
		return fmt.Errorf("delete packet %d: not in the store", id)
	}
	delete(f.packets, id)
	return nil
}

// Quarantine forgets a packet paho could not read back.
func (f *publishStore) Quarantine(id uint16) error { return f.Delete(id) }

// List returns the ids of the packets in the order they were put.
func (f *publishStore) List() ([]uint16, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := slices.Collect(maps.Keys(f.packets))
	slices.SortFunc(ids, func(a, b uint16) int { return cmp.Compare(f.packets[a].n, f.packets[b].n) })
	return ids, nil
}

// Reset forgets every packet.
func (f *publishStore) Reset() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.packets)
	return nil
}
