package bridge

import (
	"context"
	"math"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
	"factorybridge/opcua"
)

// Status is one snapshot of the bridge's counters.
type Status struct {
	At        time.Time
	Received  uint64 // readings delivered by the OPC UA clients
	Buffer    fb.BufferStats
	Published uint64 // readings acknowledged by the broker or hub
	Rejected  uint64 // readings too large for a message, skipped
	Connected bool   // the publisher's connection is up
	ServersUp int    // OPC UA servers connected
	Servers   int    // OPC UA servers configured
	// Drain is the progress of a backlog in the buffer.
	Drain Drain
	// OEE is each OEE line's latest rolling line record, in configuration
	// order; OK is false for a line with no record yet.
	OEE []LineOEE
	// Clocks is each OPC UA server's clock as last measured, in
	// configuration order (docs/clocks.md).
	Clocks []ServerClock
}

// ServerClock is what the bridge knows of one server's clock; a zero
// MeasuredAt means it was never measured.
type ServerClock struct {
	Server string
	opcua.ClockStats
}

// LineOEE is a line's latest rolling OEE record.
type LineOEE struct {
	Line   string
	Record oee.Record
	OK     bool
}

// Status returns a snapshot of the running system's counters.
func (b *Bridge) Status() Status {
	srcs := b.servers()
	s := Status{At: time.Now(), Buffer: b.buf.Stats(), Servers: len(srcs)}
	s.Drain = b.hist.drain(s.Buffer)
	for _, src := range srcs {
		cs := src.client.Stats()
		s.Clocks = append(s.Clocks, ServerClock{Server: src.name, ClockStats: cs.Clock})
		s.Received += cs.Readings
		if cs.State == opcua.StateConnected {
			s.ServersUp++
		}
	}
	ps := b.pub.Stats()
	s.Published, s.Connected, s.Rejected = ps.ReadingsAcked, ps.Connected, ps.ReadingsRejected
	if b.oee != nil {
		for _, line := range b.oee.Lines() {
			rec, ok := b.oee.Latest(line)
			s.OEE = append(s.OEE, LineOEE{Line: line, Record: rec, OK: ok})
		}
	}
	return s
}

// Attrs are the status as log attributes. While the buffer holds a
// backlog they end with its drain: readings acknowledged per second, the
// readings remaining, and the time left at the net rate ("growing" while
// more come in than go out).
func (s Status) Attrs() []any {
	attrs := []any{
		"servers_connected", s.ServersUp, "servers", s.Servers, "mqtt_connected", s.Connected,
		"received", s.Received, "committed", s.Buffer.Committed, "published", s.Published,
		"buffer_depth", s.Buffer.Depth, "buffer_bytes", s.Buffer.Bytes,
		"oldest_age", s.Buffer.OldestAge.Round(time.Millisecond), "dropped", s.Buffer.Dropped,
		"last_seq", s.Buffer.LastSeq, "rejected", s.Rejected,
	}
	if !s.Drain.Backlog {
		return attrs
	}
	var eta any = s.Drain.ETA
	switch {
	case s.Drain.ETA > 0:
	case s.Drain.Stalled:
		eta = "stalled" // nothing is acknowledged: the publisher is cut off
	default:
		eta = "growing" // more comes in than goes out
	}
	return append(attrs, "drain_rate", math.Round(s.Drain.Rate), "remaining", s.Drain.Remaining, "eta", eta)
}

// reportStatus calls OnStatus every StatusInterval until ctx ends.
func (b *Bridge) reportStatus(ctx context.Context) {
	t := time.NewTicker(b.opts.StatusInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.opts.OnStatus(b.Status())
		}
	}
}
