package mqtt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"factorybridge"
)

// errAckTimeout reports a message whose acknowledgement did not come in time.
var errAckTimeout = errors.New("no acknowledgement from the broker in time")

// message is one sent MQTT message waiting for its acknowledgement.
type message struct {
	token   paho.Token
	payload []byte
	first   uint64 // smallest seq in it
	count   int
	sentAt  time.Time
}

type readResult struct {
	readings []factorybridge.Reading
	err      error
}

type ackResult struct {
	m   *message
	err error
}

// session publishes over one connection. Its loop goroutine owns all state;
// the reader goroutine performs the blocking Queue reads it asks for and the
// waiter goroutine waits for acknowledgements in send order.
type session struct {
	p       *Publisher
	l       *link
	ctx     context.Context
	readReq chan uint64 // loop → reader: read after this seq
	readRes chan readResult
	sent    chan *message // loop → waiter, in send order
	acks    chan ackResult
	timer   *time.Timer

	inflight []*message // sent, not acknowledged, in send order
	pending  []factorybridge.Reading
	next     int       // index in pending of the next reading to pack
	readAt   time.Time // when pending was read
	readPos  uint64    // highest seq read
	reading  bool      // a read request is outstanding
	empty    bool      // the last read found nothing

	renewal  *time.Timer // fires when the credentials are due; nil when they never are
	renewing bool        // sending stopped until the window is empty
	rate     *time.Timer // wakes the loop when the send-rate cap allows a message
	ctlErr   chan error  // the dialect's Session's error
}

// serve publishes over l until the connection fails, an acknowledgement is
// late, the Queue fails (a fatalError) or ctx ends. It starts over from the
// last acknowledged seq: builders and in-flight messages are dropped.
func (p *Publisher) serve(ctx context.Context, l *link) error {
	ctx, cancel := context.WithCancel(ctx)
	n := p.opts.MaxInflight
	s := &session{
		p: p, l: l, ctx: ctx,
		readReq: make(chan uint64, 1), readRes: make(chan readResult, 1),
		sent: make(chan *message, n), acks: make(chan ackResult, n),
		readPos: p.stats.ackedSeq.Load(), ctlErr: make(chan error, 1),
	}
	s.startTimers()
	var wg sync.WaitGroup
	wg.Go(s.reader)
	wg.Go(s.waiter)
	wg.Go(func() {
		if err := p.dialect.Session(ctx, l); err != nil {
			s.ctlErr <- err // buffered: the loop reads it or has ended
		}
	})
	err := s.loop()
	cancel()
	wg.Wait()
	s.stopTimers()
	p.packer.Reset()
	p.stats.inFlight.Store(0)
	return err
}

func (s *session) loop() error {
	for {
		if err := s.progress(); err != nil {
			return err
		}
		select {
		case <-s.ctx.Done():
			return s.ctx.Err()
		case err := <-s.l.lost:
			return fmt.Errorf("connection lost: %w", err)
		case res := <-s.readRes:
			if err := s.received(res); err != nil {
				return err
			}
		case a := <-s.acks:
			if err := s.acked(a); err != nil {
				return err
			}
		case <-s.flushTimer():
			s.flushDue(time.Now())
		case <-s.renewalC():
			s.renewing = true
		case <-s.rateTimer():
		case err := <-s.ctlErr:
			return err
		}
	}
}

func (s *session) startTimers() {
	s.timer = time.NewTimer(time.Hour)
	if !s.l.renewAt.IsZero() {
		s.renewal = time.NewTimer(time.Until(s.l.renewAt))
	}
	if s.p.limiter != nil {
		s.rate = time.NewTimer(time.Hour)
	}
}

func (s *session) stopTimers() {
	for _, t := range []*time.Timer{s.timer, s.renewal, s.rate} {
		if t != nil {
			t.Stop()
		}
	}
}

// renewalC fires when the credentials are due for renewal.
func (s *session) renewalC() <-chan time.Time {
	if s.renewal == nil || s.renewing {
		return nil
	}
	return s.renewal.C
}

// rateTimer returns a channel that fires when the send-rate cap allows the
// next message, or nil when nothing waits for it.
func (s *session) rateTimer() <-chan time.Time {
	if s.rate == nil || s.windowShut() ||
		s.next >= len(s.pending) && s.p.packer.Oldest() == nil {
		return nil
	}
	d := s.p.limiter.wait(time.Now())
	if d == 0 && s.next >= len(s.pending) {
		return nil // builders wait for their batch delay, not for the cap
	}
	s.rate.Reset(d) // 0: the cap allowed a send since pack stopped
	return s.rate.C
}

// progress packs what the window allows, acknowledges the completed front
// to the Queue, asks for more readings when there is room, and notes a
// completed drain.
func (s *session) progress() error {
	s.pack()
	if s.empty && s.p.draining.Load() {
		s.flushAll()
	}
	if err := s.ackFront(); err != nil {
		return err
	}
	if s.renewing && len(s.inflight) == 0 {
		return errRenew
	}
	s.requestRead()
	s.checkDrained()
	return nil
}

func (s *session) received(res readResult) error {
	s.reading = false
	if res.err != nil {
		return &fatalError{fmt.Errorf("read buffer after seq %d: %w", s.readPos, res.err)}
	}
	s.empty = len(res.readings) == 0
	if s.empty {
		return nil
	}
	s.pending, s.next, s.readAt = res.readings, 0, time.Now()
	s.readPos = max(s.readPos, res.readings[len(res.readings)-1].Seq)
	return nil
}

func (s *session) acked(a ackResult) error {
	if a.err != nil {
		return fmt.Errorf("publish: %w", a.err)
	}
	s.inflight = slices.Delete(s.inflight, 0, 1)
	now := time.Now()
	s.p.stats.acked(a.m.count, now)
	if f := s.p.opts.AckLatency; f != nil {
		f(now.Sub(a.m.sentAt))
	}
	s.p.putPayload(a.m.payload)
	return nil
}

// ackFront acknowledges every seq below the oldest reading not yet
// acknowledged by the broker: pending, in a builder or in flight. Messages of
// different topics interleave in seq, so this is a minimum over all of them.
func (s *session) ackFront() error {
	low, ok := s.p.packer.MinFirst()
	consider := func(seq uint64) {
		if !ok || seq < low {
			low, ok = seq, true
		}
	}
	if s.next < len(s.pending) {
		consider(s.pending[s.next].Seq)
	}
	for _, m := range s.inflight {
		consider(m.first)
	}
	target := s.readPos
	if ok {
		target = low - 1
	}
	if target <= s.p.stats.ackedSeq.Load() {
		return nil
	}
	if err := s.p.opts.Queue.Ack(target); err != nil {
		return &fatalError{fmt.Errorf("ack buffer through seq %d: %w", target, err)}
	}
	s.p.stats.ackedSeq.Store(target)
	return nil
}

// requestRead asks the reader for more once the last batch is packed and the
// window has room: a full window stops reading, which is the backpressure.
// The send-rate cap does not: it holds back sends, and a read is what makes
// the loop wait for the cap (rateTimer) when builders are empty.
func (s *session) requestRead() {
	if s.reading || s.next < len(s.pending) || s.windowShut() {
		return
	}
	s.pending, s.next = nil, 0
	s.reading = true
	s.readReq <- s.readPos
}

func (s *session) checkDrained() {
	p := s.p
	if p.isDrained || !p.draining.Load() || !s.empty || s.next < len(s.pending) ||
		p.packer.Oldest() != nil || len(s.inflight) > 0 {
		return
	}
	p.isDrained = true
	close(p.drained)
}

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
		return m.token.Error()
	default:
	}
	t.Reset(time.Until(m.sentAt.Add(s.p.opts.AckTimeout)))
	select {
	case <-m.token.Done():
		return m.token.Error()
	case <-t.C:
		return fmt.Errorf("%w (%v)", errAckTimeout, s.p.opts.AckTimeout)
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}
