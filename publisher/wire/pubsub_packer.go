package wire

import (
	"strconv"
	"time"

	"factorybridge"
)

// psEnvelope is what a pubsub-json NetworkMessage adds to its
// DataSetMessages at most: the header with the widest MessageId.
func psEnvelope(bridge string) int {
	quoted := len(appendString(nil, bridge))
	widestID := quoted + len("-18446744073709551615-18446744073709551615")
	return len(`{"MessageId":`) + widestID + len(`,"MessageType":"ua-data","PublisherId":`) + quoted +
		len(`,"Messages":[`) + len(networkMessageTail)
}

// psFinisher is a pubsub-json body: it writes its DataSetMessages with the
// Packer's writers.
type psFinisher interface {
	finish(dst []byte, ps *pubsub) []byte
}

// finishPubSub appends b's NetworkMessage: its id is the bridge, the first
// seq and the count of messages (unique per message: a message sent again
// is a new one, with new SequenceNumbers).
func (p *Packer) finishPubSub(b *Builder, dst []byte) []byte {
	ps := p.ps
	ps.messages++
	id := ps.bridge + "-" + strconv.FormatUint(b.first, 10) + "-" + strconv.FormatUint(ps.messages, 10)
	dst = appendNetworkMessageHead(dst, psMessage{MessageID: id, PublisherID: ps.bridge})
	dst = b.body.(psFinisher).finish(dst, ps)
	dst = append(dst, networkMessageTail...)
	p.Release(b)
	return dst
}

// sizeAlonePubSub is the size of a pubsub-json message holding only r.
func (p *Packer) sizeAlonePubSub(r *factorybridge.Reading) int {
	var body body = newPSBody()
	if r.Class == factorybridge.ClassOEE {
		body = &psOEEBody{}
	}
	body.tryAdd(r, int(^uint(0)>>1))
	return p.max - p.room + body.size()
}

// TakeMetadata returns the DataSetMetaData messages (pubsub-json) that the
// messages finished since the last call need, and forgets them: a
// transport sends them, in order, before those messages, on the same
// topic. After Reset every writer's metadata is sent again. nil for the
// other encodings.
func (p *Packer) TakeMetadata() [][]byte {
	if p.ps == nil || len(p.ps.pending) == 0 {
		return nil
	}
	out := p.ps.pending
	p.ps.pending = nil
	return out
}

// SetClock replaces the clock of the metadata's VersionTimes (tests).
func (p *Packer) SetClock(now func() time.Time) {
	if p.ps != nil {
		p.ps.now = now
	}
}
