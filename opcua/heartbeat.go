package opcua

import (
	"context"
	"time"

	"factorybridge"
)

// Heartbeats. A node with Node.Heartbeat that has sent nothing for that
// long has its last value sent again as a ClassHeartbeat reading: value,
// status and source timestamp as received, server timestamp the time it
// is sent again (what a Read would say: the value's own source timestamp,
// and the time the server vouched for it). A heartbeat never claims a value
// the bridge cannot see: only a value received in the current session is
// repeated, never while the node's gap is being filled, and only while the
// server has answered (data or a liveness probe) within the heartbeat
// interval — the session probes at least every half of the shortest
// interval when it receives nothing (probeAfter). When the session is down
// there is no drain, so there are no heartbeats.
//
// This is OPC Publisher's default behaviour (WatchdogLKV: the last known
// value, after a silence of the interval) with two differences: OPC
// Publisher repeats the value with its timestamps unchanged (or, with
// WatchdogLKVWithUpdatedTimestamps, shifts the source timestamp, inventing
// one), where the bridge keeps the source timestamp and marks the reading;
// and OPC Publisher keeps sending heartbeats of its last value while the
// session is reconnecting, which the bridge does not. The periodic and
// last-known-good variants (PeriodicLKV, WatchdogLKG) are not offered.

// minHeartbeat is the shortest heartbeat interval of the nodes, 0 if none.
func minHeartbeat(nodes []node) time.Duration {
	var least time.Duration
	for i := range nodes {
		if hb := nodes[i].spec.Heartbeat; hb > 0 && (least == 0 || hb < least) {
			least = hb
		}
	}
	return least
}

// heartbeatTicker returns the drain's heartbeat ticker (a quarter of the
// shortest interval, at least 10 ms) and its channel; nil when no node has
// heartbeats.
func (c *Client) heartbeatTicker() (*time.Ticker, <-chan time.Time) {
	if c.minHeartbeat <= 0 {
		return nil, nil
	}
	t := time.NewTicker(max(c.minHeartbeat/4, 10*time.Millisecond))
	return t, t.C
}

// probeAfter is how long the session may receive nothing before supervise
// probes the server: a third of the watchdog limit, and with heartbeats at
// most half the shortest heartbeat interval, so that a healthy idle session
// proves itself alive within every interval.
func (s *session) probeAfter() time.Duration {
	d := s.watchdog / 3
	if hb := s.c.minHeartbeat; hb > 0 {
		d = min(d, hb/2)
	}
	return d
}

// heartbeats sends the heartbeats that are due.
func (s *session) heartbeats(ctx context.Context) {
	c := s.c
	now, idle := time.Now(), s.idle()
	var batch []factorybridge.Reading
	for i := range c.nodes {
		hb, st := c.nodes[i].spec.Heartbeat, &c.state[i]
		if hb <= 0 || !st.fresh || st.backfill != nil || now.Sub(st.sentAt) < hb || idle > hb {
			continue
		}
		r := *st.last // fresh: a value was delivered
		r.Class, r.ServerTime = factorybridge.ClassHeartbeat, c.now()
		st.sentAt = now
		batch = append(batch, r)
	}
	if len(batch) > 0 {
		s.c.stats.update(func(st *Stats) { st.Heartbeats += uint64(len(batch)) })
	}
	s.appendBatch(ctx, batch)
}
