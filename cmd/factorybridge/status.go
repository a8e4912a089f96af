package main

import (
	"context"
	"time"

	fb "factorybridge"
	"factorybridge/opcua"
)

// status is one snapshot of the bridge's counters.
type status struct {
	at        time.Time
	received  uint64 // readings delivered by the OPC UA clients
	buf       fb.BufferStats
	published uint64 // readings acknowledged by the broker
	rejected  uint64 // readings too large for a message, skipped
	connected bool   // MQTT connection up
	servers   int    // OPC UA servers connected
	total     int    // OPC UA servers configured
}

func (b *bridge) status() status {
	s := status{at: time.Now(), buf: b.buf.Stats(), total: len(b.clients)}
	for _, c := range b.clients {
		cs := c.Stats()
		s.received += cs.Readings
		if cs.State == opcua.StateConnected {
			s.servers++
		}
	}
	ps := b.pub.Stats()
	s.published, s.connected, s.rejected = ps.ReadingsAcked, ps.Connected, ps.ReadingsRejected
	return s
}

func (s status) attrs() []any {
	return []any{
		"servers_connected", s.servers, "servers", s.total, "mqtt_connected", s.connected,
		"received", s.received, "committed", s.buf.Committed, "published", s.published,
		"buffer_depth", s.buf.Depth, "buffer_bytes", s.buf.Bytes,
		"oldest_age", s.buf.OldestAge.Round(time.Millisecond), "dropped", s.buf.Dropped,
		"last_seq", s.buf.LastSeq, "rejected", s.rejected,
	}
}

// reportStatus calls report every interval until ctx ends.
func (b *bridge) reportStatus(ctx context.Context, every time.Duration, report func(status)) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			report(b.status())
		}
	}
}
