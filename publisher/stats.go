package publisher

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stats describes the publisher at one moment. Counters run since New; zero
// times mean "never".
type Stats struct {
	// Connected is true while a broker connection is up.
	Connected bool
	// MessagesSent counts MQTT messages handed to the connection, resends
	// included; MessagesAcked those the broker acknowledged (PUBACK at QoS 1,
	// written at QoS 0).
	MessagesSent  uint64
	MessagesAcked uint64
	// ReadingsPublished and ReadingsAcked count the readings in those messages.
	ReadingsPublished uint64
	ReadingsAcked     uint64
	// ReadingsRejected counts readings that could not fit in a message even
	// alone; they were skipped and acknowledged to the queue.
	ReadingsRejected uint64
	// BytesSent counts payload bytes of sent messages.
	BytesSent uint64
	// Reconnects counts connections made after the first, except those
	// that renewed an IoT Hub token (TokenRenewals).
	Reconnects    uint64
	TokenRenewals uint64
	// BillableUnits estimates the 4 KB units IoT Hub meters for the
	// messages sent (resends included); BillableUnitsLastHour those of the
	// last 60 minutes. Zero for a plain broker.
	BillableUnits         uint64
	BillableUnitsLastHour uint64
	// AckedSeq is the highest seq acknowledged to the queue.
	AckedSeq uint64
	// LastPublish and LastAck are when a message was last sent and acknowledged.
	LastPublish time.Time
	LastAck     time.Time
	// InFlight is the number of messages sent and not yet acknowledged.
	InFlight int
}

// counters are the live values behind Stats, written by Run's goroutines.
type counters struct {
	connected         atomic.Bool
	messagesSent      atomic.Uint64
	messagesAcked     atomic.Uint64
	readingsPublished atomic.Uint64
	readingsAcked     atomic.Uint64
	readingsRejected  atomic.Uint64
	bytesSent         atomic.Uint64
	reconnects        atomic.Uint64
	tokenRenewals     atomic.Uint64
	billing           billingMeter
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

func (c *counters) snapshot() Stats {
	total, hour := c.billing.read(time.Now())
	return Stats{
		BillableUnits:         total,
		BillableUnitsLastHour: hour,
		Connected:             c.connected.Load(),
		MessagesSent:          c.messagesSent.Load(),
		MessagesAcked:         c.messagesAcked.Load(),
		ReadingsPublished:     c.readingsPublished.Load(),
		ReadingsAcked:         c.readingsAcked.Load(),
		ReadingsRejected:      c.readingsRejected.Load(),
		BytesSent:             c.bytesSent.Load(),
		Reconnects:            c.reconnects.Load(),
		TokenRenewals:         c.tokenRenewals.Load(),
		AckedSeq:              c.ackedSeq.Load(),
		LastPublish:           unixTime(c.lastPublish.Load()),
		LastAck:               unixTime(c.lastAck.Load()),
		InFlight:              int(c.inFlight.Load()),
	}
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// billingMeter sums billable units in total and per minute over the last
// hour (a ring of 60 minutes, so it stays small however long it runs).
type billingMeter struct {
	mu      sync.Mutex
	total   uint64
	minutes [60]uint64
	stamps  [60]int64 // the Unix minute each slot counts
}

func (b *billingMeter) add(units uint64, now time.Time) {
	m := now.Unix() / 60
	b.mu.Lock()
	defer b.mu.Unlock()
	i := m % 60
	if b.stamps[i] != m {
		b.stamps[i], b.minutes[i] = m, 0
	}
	b.minutes[i] += units
	b.total += units
}

// read returns the total and the units of the last 60 minutes.
func (b *billingMeter) read(now time.Time) (total, lastHour uint64) {
	m := now.Unix() / 60
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, stamp := range b.stamps {
		if m-stamp < 60 {
			lastHour += b.minutes[i]
		}
	}
	return b.total, lastHour
}
