package mqtt

import (
	"context"
	"fmt"
	"time"

	"factorybridge"
)

// readRequest asks the reader for up to max readings after seq after,
// waiting at most poll for one. It carries the settings so that the reader
// never reads the Publisher's, which an update changes. buf is the slice
// to read into: the loop hands over the last result, which it is done
// with, and gets it back in the readResult, so reading allocates nothing
// once the slice has grown to the read batch.
type readRequest struct {
	after uint64
	max   int
	poll  time.Duration
	buf   []factorybridge.Reading
}

// reader performs the Queue reads the loop asks for, one at a time.
func (s *session) reader() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case req := <-s.readReq:
			rs, err := s.read(req)
			select {
			case s.readRes <- readResult{rs, err}:
			case <-s.ctx.Done():
				return
			}
		}
	}
}

// read returns the readings after req.after, read into req.buf, or none
// (req.buf emptied) once req.poll passed without any, so the loop learns
// the queue is empty.
func (s *session) read(req readRequest) ([]factorybridge.Reading, error) {
	ctx, cancel := context.WithTimeout(s.ctx, req.poll)
	defer cancel()
	rs, err := s.p.queue.ReadAfter(ctx, req.buf, req.after, req.max)
	if err != nil && ctx.Err() != nil && s.ctx.Err() == nil {
		return req.buf[:0], nil
	}
	return rs, err
}

// startWaiter starts a waiter on the session's channels of sent messages
// and acknowledgements; stopWaiter ends it (the loop calls that only with
// nothing in flight, to give a larger window larger channels).
func (s *session) startWaiter() {
	ctx, stop := context.WithCancel(s.ctx)
	done := make(chan struct{})
	sent, acks := s.sent, s.acks
	s.wg.Go(func() {
		defer close(done)
		waiter(ctx, sent, acks)
	})
	s.stopWaiter = func() {
		stop()
		<-done
	}
}

// waiter reports each sent message's acknowledgement, in send order: the
// Queue is acknowledged only up to the oldest unacknowledged message anyway,
// and the oldest is the one whose timeout matters.
func waiter(ctx context.Context, sent <-chan *message, acks chan<- ackResult) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		var m *message
		select {
		case <-ctx.Done():
			return
		case m = <-sent:
		}
		err := await(ctx, m, t)
		select {
		case acks <- ackResult{m, err}:
		case <-ctx.Done():
			return
		}
	}
}

// await waits for m's answer, at most m.timeout after it was sent.
func await(ctx context.Context, m *message, t *time.Timer) error {
	select {
	case <-m.token.Done():
		return m.token.Err()
	default:
	}
	t.Reset(time.Until(m.sentAt.Add(m.timeout)))
	select {
	case <-m.token.Done():
		return m.token.Err()
	case <-t.C:
		return fmt.Errorf("%w (%v)", errAckTimeout, m.timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}
