// Package oee computes Overall Equipment Effectiveness at the edge, from the
// readings of the nodes that play OEE roles at each station (machine state,
// part counters, cycle times, fault time, energy). It is pure: no I/O and no
// clock of its own. Time comes from the readings (their Time, on the
// bridge's clock: docs/clocks.md) and from Tick, which the caller drives with
// its clock; connection loss comes from Disconnected and Connected. Records
// come out of Tick.
//
// The engine is not safe for concurrent use: one goroutine feeds it, and
// persists its state (MarshalBinary) in the same transaction as the position
// of the last reading it consumed, so that a restart neither loses nor
// double-counts a part. See docs/oee.md for the definitions.
package oee

// Shift calendars name IANA zones; embedding the database keeps them
// working on devices without /usr/share/zoneinfo.
import _ "time/tzdata"
