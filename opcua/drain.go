package opcua

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"

	"factorybridge"
)

// drain takes every publish result off gopcua's channel and delivers it.
// gopcua has one publish loop per client and blocks it on this channel, so
// nothing else slow happens here; Sink.Append blocking is the intended
// backpressure. It also sends heartbeats and the values read from history
// (heartbeat.go, backfill.go). After stop is closed it delivers what is
// still queued and returns; live values held for gaps not filled yet are
// left to the next session's fill (dropHeld).
func (s *session) drain(ctx context.Context, stop <-chan struct{}) {
	defer s.logDropped()
	ticker, beat := s.c.heartbeatTicker()
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	deadline := s.backfillDeadline()
	defer deadline.Stop()
	for {
		select {
		case d := <-s.notify:
			s.handle(ctx, d)
		case res := <-s.filledGaps:
			s.gapRead(ctx, res)
		case <-beat:
			s.heartbeats(ctx)
		case <-deadline.C:
			s.appendBatch(ctx, s.settleAll())
		case nodes := <-s.noValues:
			s.failedItems(nodes)
		case f := <-s.ctl:
			f()
			if ticker != nil { // the shortest heartbeat may have changed
				ticker.Stop()
			}
			ticker, beat = s.c.heartbeatTicker()
		case <-stop:
			for {
				select {
				case d := <-s.notify:
					s.handle(ctx, d)
				default:
					s.dropHeld()
					return
				}
			}
		}
	}
}

func (s *session) handle(ctx context.Context, d *opcua.PublishNotificationData) {
	switch v := d.Value.(type) {
	case *ua.DataChangeNotification:
		s.alive()
		s.deliver(ctx, v)
	case *ua.EventNotificationList:
		s.alive()
		s.deliverEvents(ctx, v)
	case updateDone:
		s.updateDone(v)
	case *ua.StatusChangeNotification:
		s.report(fmt.Errorf("subscription %d ended: %w", d.SubscriptionID, v.Status))
	case nil:
		if d.Error != nil {
			s.report(fmt.Errorf("publish: %w", d.Error))
		}
	}
}

// deliver converts one notification into readings, applies the per-node
// rules (acquire.go) and appends them to the sink, in chunks of at most
// deliverChunk readings in a slice it reuses. What needs the whole
// notification (the dedup windows of received, the clock's suspicion of
// placerFor) runs on all of it before the first chunk is delivered.
// dcn's decoded memory is reused afterwards (releaseNotification): the caller must
// not use dcn again.
func (s *session) deliver(ctx context.Context, dcn *ua.DataChangeNotification) {
	now := s.c.now()
	items, nodes := s.received(dcn.MonitoredItems)
	defer s.releaseNotification(dcn)
	p := s.placerFor(ctx, items, now)
	s.c.stats.update(func(st *Stats) { st.Notifications++; st.LastData = now })
	s.closeGap(now)
	for start := 0; start < len(items); start += deliverChunk {
		end := min(start+deliverChunk, len(items))
		batch := s.readings(items[start:end], nodes[start:end])
		for k := range batch {
			p.place(&batch[k], now)
		}
		s.appendBatch(ctx, s.admit(batch, nodes[start:end]))
	}
	s.flushOverflow(now) // readings counted the flagged values
}

// releaseNotification drops the drain's references to dcn's items and
// hands their decoded memory to the next notification (gopcua patch 10): ~150 bytes
// less garbage per value. Nothing else refers to it: the readings and the
// rules' last values hold copies (setReading, convertValue), and gopcua
// keeps nothing of a notification it has passed on. A notification read
// mode built is left to the garbage collector by the release.
func (s *session) releaseNotification(dcn *ua.DataChangeNotification) {
	s.scratch.done()
	ua.ReleaseDataChangeNotification(dcn)
}

// appendBatch appends readings to the sink. The append uses Run's flush
// context, not the session's: these values are already acknowledged to the
// server, so a rebuild must not drop them.
func (s *session) appendBatch(ctx context.Context, batch []factorybridge.Reading) {
	if len(batch) == 0 {
		return
	}
	if ctx.Err() != nil || s.sinkErr != nil {
		s.dropped += len(batch)
		return
	}
	if err := s.c.opts.Sink.Append(ctx, batch); err != nil {
		s.appendFailed(ctx, err, len(batch))
		return
	}
	s.c.stats.update(func(st *Stats) { st.Readings += uint64(len(batch)) })
}

func (s *session) appendFailed(ctx context.Context, err error, n int) {
	s.dropped += n
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return // shutdown outlasted the flush timeout
	}
	s.sinkErr = &fatalError{fmt.Errorf("append readings: %w", err)}
	s.report(s.sinkErr)
}

func (s *session) logDropped() {
	if s.dropped > 0 {
		s.c.log.Warn("readings dropped", "readings", s.dropped)
	}
}

// closeGap records and logs the time without data around a reconnect when
// the first data of the new session arrives.
func (s *session) closeGap(now time.Time) {
	if s.gapStart.IsZero() {
		return
	}
	start := s.gapStart
	s.gapStart = time.Time{}
	s.c.stats.update(func(st *Stats) { st.Gaps++; st.LastGapStart, st.LastGapEnd = start, now })
	s.c.log.Info("data gap", "gap_start", start, "gap_end", now, "gap", now.Sub(start))
}
