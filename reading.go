// Package factorybridge holds the domain types every part of the bridge speaks:
// a Reading taken from an OPC UA server, its typed Value, and the small
// interfaces between the source (OPC UA), the durable buffer and the publisher.
// It imports no other package of this module.
package factorybridge

import (
	"context"
	"time"
)

// Reading is one sample of one OPC UA node as it travels through the bridge.
// The strings come from configuration and are shared, not copied, per reading.
type Reading struct {
	// Seq is the bridge-wide sequence number the buffer assigns when the
	// reading is committed; zero until then. It never repeats for one store,
	// so consumers use it (with the bridge id) to drop duplicates.
	Seq uint64
	// Name is the reading's path downstream: site/line/station/node.
	Name string
	// Server, Line and Station name where the reading came from; they select
	// the MQTT topic and let consumers group readings without parsing Name.
	Server  string
	Line    string
	Station string
	// NodeID is the node id as configured (ns=…;s=…, ns=…;i=…, nsu=…;…).
	NodeID string
	// Value is the typed value; a Bad reading may carry a null Value.
	Value Value
	// Status is the OPC UA StatusCode of the value (0 = Good).
	Status uint32
	// SourceTime and ServerTime are the timestamps the server reported; the
	// zero time means the server did not send one.
	SourceTime time.Time
	ServerTime time.Time
	// BridgeTime is when the reading happened on the bridge's clock, where
	// that is not SourceTime: the timestamp its server's `timestamps`
	// setting chooses, moved onto the bridge's clock by the server's
	// measured clock offset, or the time the bridge received it
	// (docs/clocks.md). The zero time means SourceTime is that time. Time
	// returns it; everything time-based in the bridge (OEE) uses Time.
	BridgeTime time.Time
	// Class says what the entry is: a reading of a node (the zero value) or
	// a record the bridge derived, such as OEE. The buffer stores it and the
	// publisher routes by it.
	Class Class
}

// Class tells the entries of the buffer apart. The zero value is a reading.
type Class uint8

// The classes. An OEE entry carries one oee.Record as JSON text in Value;
// its Name is the record's scope, line[/station]. An event carries the
// event's selected fields as a JSON object in Value (docs/message-format.md);
// its Name is the station's event source, NodeID the notifier's id. A
// heartbeat is a node's last value sent again because it has not changed
// for the node's heartbeat interval: SourceTime is the value's own,
// ServerTime the time the bridge sent it again. A backfilled reading was
// read from the server's history after a data gap, not received live.
const (
	ClassReading Class = iota
	ClassOEE
	ClassEvent
	ClassHeartbeat
	ClassBackfill
)

// IsNodeValue reports whether entries of class c are values of a node
// (live, heartbeat or backfilled), which travel in readings messages.
func (c Class) IsNodeValue() bool {
	return c == ClassReading || c == ClassHeartbeat || c == ClassBackfill
}

// OEEName is the Name of an OEE entry: its scope, "line" or "line/station".
func OEEName(line, station string) string {
	if station == "" {
		return line
	}
	return line + "/" + station
}

// StatusGood is the OPC UA status code of a good value.
const StatusGood uint32 = 0

// Time is when the reading happened on the bridge's clock: BridgeTime, else
// SourceTime, else ServerTime; the zero time when the reading has none.
func (r *Reading) Time() time.Time {
	switch {
	case !r.BridgeTime.IsZero():
		return r.BridgeTime
	case !r.SourceTime.IsZero():
		return r.SourceTime
	}
	return r.ServerTime
}

// IsGood reports whether the reading's status severity is Good (top two bits 00).
func (r *Reading) IsGood() bool { return r.Status>>30 == 0 }

// Sink accepts readings from a source. Append may block while the sink is
// full (backpressure), never grows without bound, and returns ctx.Err() when
// the context ends first. The slice stays the caller's, who reuses it once
// Append returns (the OPC UA client converts a notification chunk by chunk
// into one slice): Append must not keep it; a sink copies the readings it
// keeps.
type Sink interface {
	Append(ctx context.Context, readings []Reading) error
}

// Watermarks is what a source that fills data gaps from the server's
// history needs of its sink: for the readings it asks to be tracked, the
// newest source timestamp committed, kept durably with the readings so that
// after a crash the source knows exactly where its gap begins.
type Watermarks interface {
	// Track asks the sink to keep the watermark of readings named name
	// (classes reading and backfill). Call it before the first Append.
	Track(name string)
	// Watermark returns the newest source time committed for name; ok is
	// false when none was, or name is not tracked.
	Watermark(name string) (t time.Time, ok bool)
}

// Queue is what the publisher needs from the durable buffer.
type Queue interface {
	// ReadAfter appends to dst[:0] up to max committed readings with
	// Seq > after, oldest first, and returns the result. It blocks until
	// at least one exists or ctx ends. When readings after `after` were
	// dropped (buffer cap), it returns the oldest that remain.
	//
	// The result aliases dst when dst has room (a larger array is
	// allocated when it has not), so a caller that is done with one
	// result passes it back as the next dst and reads without allocating;
	// dst may be nil. The Queue keeps no reference to dst or the result
	// once ReadAfter returns.
	ReadAfter(ctx context.Context, dst []Reading, after uint64, max int) ([]Reading, error)
	// Ack records that the hub acknowledged every reading with Seq <= seq;
	// they may be deleted. Acks must not go backwards.
	Ack(seq uint64) error
}

// BufferStats describes the durable buffer at one moment.
type BufferStats struct {
	Depth     uint64        // readings committed and not yet acknowledged
	Bytes     uint64        // encoded size of those readings
	OldestAge time.Duration // age (since commit) of the oldest unacknowledged reading
	Committed uint64        // readings committed since open
	Acked     uint64        // readings acknowledged since open
	Dropped   uint64        // readings dropped since open because the buffer was full
	LastSeq   uint64        // highest committed sequence number
}
