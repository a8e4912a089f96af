package opcua

import (
	"time"

	"github.com/gopcua/opcua/ua"
)

// A server whose monitored item queue is full discards a value and flags
// the one it keeps (OPC UA Part 4 v1.05, 5.13.1.5; the flag is 7.39's
// InfoType "DataValue", bits 10–11 = 01, and its Overflow bit, 7; set
// only for queues larger than 1; open62541's statuscodes.h has the same
// 0x400 and 0x80). The reading keeps its status, so consumers see the flag too;
// the bridge counts it and says so, because the values the server
// discarded never reach the bridge and no buffer can save them.
const (
	infoTypeMask      = 0x0C00
	infoTypeDataValue = 0x0400
	infoBitOverflow   = 0x0080
)

// overflowed reports whether status says the server's queue overflowed
// before this value.
func overflowed(status ua.StatusCode) bool {
	return uint32(status)&infoTypeMask == infoTypeDataValue && uint32(status)&infoBitOverflow != 0
}

// overflowLogEvery bounds the warnings: a server that overflows on
// thousands of nodes every publishing cycle gets one line a minute.
const overflowLogEvery = time.Minute

// overflowLog counts flagged values: those not yet added to Stats, and
// those since the last warning with the first node among them. Owned by
// the drain goroutine.
type overflowLog struct {
	values    int
	unlogged  int
	firstNode int
	lastLog   time.Time
}

// noteOverflow counts a flagged value of node i; flushOverflow passes the
// count on.
func (s *session) noteOverflow(i int) {
	o := &s.overflow
	if o.unlogged == 0 {
		o.firstNode = i
	}
	o.values++
	o.unlogged++
}

// flushOverflow adds what noteOverflow counted to Stats and logs it once
// the last warning is overflowLogEvery old. The drain calls it after each
// notification.
func (s *session) flushOverflow(now time.Time) {
	o := &s.overflow
	if n := o.values; n > 0 {
		s.c.stats.update(func(st *Stats) { st.QueueOverflows += uint64(n) })
		o.values = 0
	}
	if o.unlogged == 0 || !o.lastLog.IsZero() && now.Sub(o.lastLog) < overflowLogEvery {
		return
	}
	node := &s.c.nodes[o.firstNode].spec
	s.c.log.Warn("server queue overflowed: the server discarded values before sending them",
		"values_flagged", o.unlogged, "first_node", node.Name, "queue_size", node.QueueSize,
		"sampling_interval", node.SamplingInterval, "publishing_interval", node.PublishingInterval,
		"hint", "raise queue_size to at least publishing_interval / sampling_interval (or the changes per publishing interval), or shorten publishing_interval")
	o.unlogged, o.lastLog = 0, now
}
