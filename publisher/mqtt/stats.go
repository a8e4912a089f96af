package mqtt

import (
	"sync/atomic"
	"time"

	"factorybridge/publisher"
)

// counters are the live values behind Stats, written by Run's goroutines.
type counters struct {
	connected         atomic.Bool
	messagesSent      atomic.Uint64
	messagesAcked     atomic.Uint64
	readingsPublished atomic.Uint64
	readingsAcked     atomic.Uint64
	readingsRejected  atomic.Uint64
	bytesSent         atomic.Uint64
	connections       atomic.Uint64
	reconnects        atomic.Uint64
	tokenRenewals     atomic.Uint64
	ackedSeq          atomic.Uint64
	lastPublish       atomic.Int64 // Unix ns; 0 = never
	lastAck           atomic.Int64
	inFlight          atomic.Int64
}

func (c *counters) sent(readings, bytes int, now time.Time) {
	c.messagesSent.Add(1)
	c.readingsPublished.Add(uint64(readings))
	c.bytesSent.Add(uint64(bytes))
	c.lastPublish.Store(now.UnixNano())
	c.inFlight.Add(1)
}

func (c *counters) acked(readings int, now time.Time) {
	c.messagesAcked.Add(1)
	c.readingsAcked.Add(uint64(readings))
	c.lastAck.Store(now.UnixNano())
	c.inFlight.Add(-1)
}

func (c *counters) snapshot() publisher.Stats {
	return publisher.Stats{
		Connected:         c.connected.Load(),
		MessagesSent:      c.messagesSent.Load(),
		MessagesAcked:     c.messagesAcked.Load(),
		ReadingsPublished: c.readingsPublished.Load(),
		ReadingsAcked:     c.readingsAcked.Load(),
		ReadingsRejected:  c.readingsRejected.Load(),
		BytesSent:         c.bytesSent.Load(),
		Connections:       c.connections.Load(),
		Reconnects:        c.reconnects.Load(),
		TokenRenewals:     c.tokenRenewals.Load(),
		AckedSeq:          c.ackedSeq.Load(),
		LastPublish:       unixTime(c.lastPublish.Load()),
		LastAck:           unixTime(c.lastAck.Load()),
		InFlight:          int(c.inFlight.Load()),
	}
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}
