package mqtt

import (
	"context"
	"fmt"
	"time"

	"factorybridge"
)

// reader performs the Queue reads the loop asks for, one at a time.
func (s *session) reader() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case after := <-s.readReq:
			rs, err := s.read(after)
			select {
			case s.readRes <- readResult{rs, err}:
			case <-s.ctx.Done():
				return
			}
		}
	}
}

// read returns the readings after seq, or none once IdlePoll passed without
// any, so the loop learns the queue is empty.
func (s *session) read(after uint64) ([]factorybridge.Reading, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.p.opts.IdlePoll)
	defer cancel()
	rs, err := s.p.opts.Queue.ReadAfter(ctx, after, s.p.opts.ReadBatch)
	if err != nil && ctx.Err() != nil && s.ctx.Err() == nil {
		return nil, nil
	}
	return rs, err
}

// waiter reports each sent message's acknowledgement, in send order: the
// Queue is acknowledged only up to the oldest unacknowledged message anyway,
// and the oldest is the one whose timeout matters.
func (s *session) waiter() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		var m *message
		select {
		case <-s.ctx.Done():
			return
		case m = <-s.sent:
		}
		err := s.await(m, t)
		select {
		case s.acks <- ackResult{m, err}:
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *session) await(m *message, t *time.Timer) error {
	select {
	case <-m.token.Done():
		return m.token.Err()
	default:
	}
	t.Reset(time.Until(m.sentAt.Add(s.p.opts.AckTimeout)))
	select {
	case <-m.token.Done():
		return m.token.Err()
	case <-t.C:
		return fmt.Errorf("%w (%v)", errAckTimeout, s.p.opts.AckTimeout)
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}
