package mqtt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"factorybridge"
)

// errAckTimeout reports a message whose acknowledgement did not come in time.
var errAckTimeout = errors.New("no acknowledgement from the broker in time")

// noSeq stands for "no reading" where the smallest seq of something is kept.
const noSeq = math.MaxUint64

// message is one sent MQTT message waiting for its acknowledgement.
type message struct {
	token   token
	payload []byte
	topic   string // as the template rendered it (before the dialect's MessageTopic)
	first   uint64 // smallest seq in it
	count   int
	sentAt  time.Time
	timeout time.Duration // AckTimeout when it was sent
}

type readResult struct {
	readings []factorybridge.Reading
	err      error
}

type ackResult struct {
	m   *message
	err error
}

// session publishes over one connection, or over several when an MQTT 5
// broker keeps the session (a resumed session continues with its messages
// in flight). Its loop goroutine owns all state; the reader goroutine
// performs the blocking Queue reads it asks for and the waiter goroutine
// waits for acknowledgements in send order.
type session struct {
	p       *Publisher
	l       *link
	ctx     context.Context
	wg      *sync.WaitGroup // the goroutines of serve
	readReq chan readRequest
	readRes chan readResult
	sent    chan *message // loop → waiter, in send order
	acks    chan ackResult
	timer   *time.Timer

	stopWaiter func() // ends the waiter and waits for it

	window int // most messages in flight: MaxInflight, at most the broker's Receive Maximum
	limit  int // message size on this connection

	inflight []*message // sent, not acknowledged, in send order
	pending  []factorybridge.Reading
	next     int       // index in pending of the next reading to pack
	readAt   time.Time // when pending was read
	readPos  uint64    // highest seq read
	reading  bool      // a read request is outstanding
	empty    bool      // the last read found nothing

	heldLow   uint64      // smallest seq of a held topic's reading met since reading restarted; noSeq: none
	failedLow uint64      // smallest first seq of a message refused for now; noSeq: none
	rw        *rewindPlan // reading starts over from the acknowledged seq once the window is empty
	pause     *time.Timer // wakes the loop when a rewind's pause ends or held topics are due
	renewal   *time.Timer // fires when the credentials are due; nil when they never are
	renewing  bool        // packing stopped until what is packed is sent and acknowledged
	rate      *time.Timer // wakes the loop when the send-rate cap allows a message
	ctlErr    chan error  // the dialect's Session's error

	// newest is the newest reading time packed; released, the newest
	// releaseCycles acted on (pacing.go).
	newest, released time.Time

	checked bool     // the delivery check verified this connection's size
	reconf  reconfig // an update waiting for a quiet moment (reconfigure.go)
}

// newSession starts publishing from the last acknowledged seq.
func (p *Publisher) newSession(window, limit int) *session {
	return &session{p: p, window: window, limit: limit, readPos: p.stats.ackedSeq.Load(),
		heldLow: noSeq, failedLow: noSeq}
}

// serve publishes over l until the connection fails, an acknowledgement is
// late, the Queue fails (a fatalError) or ctx ends. Unless the next
// connection resumes the session, it starts over from the last
// acknowledged seq: builders and in-flight messages are dropped.
func (p *Publisher) serve(ctx context.Context, l *link) error {
	s, err := p.prepare(ctx, l)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	s.attach(ctx, l, &wg)
	s.startTimers()
	wg.Go(s.reader)
	s.startWaiter()
	d := p.dialect // an update may replace it; this Session keeps its own
	wg.Go(func() {
		if err := d.Session(ctx, l); err != nil {
			s.ctlErr <- err // buffered: the loop reads it or has ended
		}
	})
	err = s.loop()
	cancel()
	wg.Wait()
	s.stopTimers()
	p.stats.inFlight.Store(0)
	p.keep(s, l)
	return err
}

// attach gives s its connection and fresh channels; messages still in
// flight (a resumed session) are waited for again from now.
func (s *session) attach(ctx context.Context, l *link, wg *sync.WaitGroup) {
	n := max(s.window, len(s.inflight))
	s.l, s.ctx, s.wg = l, ctx, wg
	s.readReq, s.readRes = make(chan readRequest, 1), make(chan readResult, 1)
	s.sent, s.acks = make(chan *message, n), make(chan ackResult, n)
	s.ctlErr = make(chan error, 1)
	s.reading = false // a read under way was dropped with the old reader
	now := time.Now()
	for _, m := range s.inflight {
		m.sentAt = now
		s.sent <- m
	}
	s.p.stats.inFlight.Store(int64(len(s.inflight)))
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
			return s.connectionLost(err)
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
		case <-s.pauseC():
		case <-s.p.wake:
		case <-s.quietC():
		case err := <-s.ctlErr:
			return err
		}
	}
}

func (s *session) startTimers() {
	s.timer = time.NewTimer(time.Hour)
	s.pause = time.NewTimer(time.Hour)
	if !s.l.renewAt.IsZero() {
		s.renewal = time.NewTimer(time.Until(s.l.renewAt))
	}
	if s.p.limiter != nil {
		s.rate = time.NewTimer(time.Hour)
	}
}

func (s *session) stopTimers() {
	for _, t := range []*time.Timer{s.timer, s.pause, s.renewal, s.rate, s.reconf.timer} {
		if t != nil {
			t.Stop()
		}
	}
	s.renewal, s.rate = nil, nil
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
	if s.rate == nil || s.p.limiter == nil || s.windowShut() ||
		s.next >= len(s.pending) && s.p.packer.Oldest() == nil {
		return nil
	}
	d := s.p.limiter.wait(time.Now())
	if d == 0 && (s.next >= len(s.pending) || s.reconf.u != nil) {
		return nil // builders wait for their batch delay, not for the cap; an update stops packing
	}
	s.rate.Reset(d) // 0: the cap allowed a send since pack stopped
	return s.rate.C
}

// progress starts over where a refusal asked for it, packs what the window
// allows, acknowledges the completed front to the Queue, asks for more
// readings when there is room, and notes a completed drain.
func (s *session) progress() error {
	now := time.Now()
	s.retryHolds(now)
	if err := s.rewindIfReady(now); err != nil {
		return err
	}
	if err := s.reconfigure(now); err != nil {
		return err
	}
	s.pack()
	s.releaseCycles(now)
	if s.empty && s.p.draining.Load() {
		s.flushAll()
	}
	if err := s.ackFront(); err != nil {
		return err
	}
	if s.renewing {
		// Send what is packed before reconnecting: a builder's readings
		// dropped here would be read again with those of later messages
		// that went out (the Queue's ack is a minimum over the topics),
		// and those would arrive twice.
		s.flushAll()
		if len(s.inflight) == 0 && s.p.packer.Oldest() == nil {
			if err := s.ackFront(); err != nil {
				return err
			}
			return errRenew
		}
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
	s.pending, s.next = res.readings, 0 // when empty, kept to read into again
	if s.empty {
		return nil
	}
	s.readAt = time.Now()
	s.readPos = max(s.readPos, res.readings[len(res.readings)-1].Seq)
	return nil
}

// acked handles the answer to the oldest message in flight (the waiter
// reports in send order). An error that is no reason code ends the
// session: the message's fate is unknown.
func (s *session) acked(a ackResult) error {
	if a.err != nil {
		if _, ok := reasonCode(a.err); !ok {
			return fmt.Errorf("publish: %w", a.err)
		}
	}
	s.inflight = slices.Delete(s.inflight, 0, 1)
	if a.err != nil {
		s.p.stats.inFlight.Add(-1)
		s.refused(a.m, a.err)
		return nil
	}
	now := time.Now()
	s.p.stats.acked(a.m.count, now)
	if f := s.p.opts.AckLatency; f != nil {
		f(now.Sub(a.m.sentAt))
	}
	s.p.putPayload(a.m.payload)
	s.accepted(a.m)
	return nil
}

// ackFront acknowledges every seq below the oldest reading not yet
// delivered: pending, in a builder, in flight, refused for now, or of a
// held topic. Messages of different topics interleave in seq, so this is
// a minimum over all of them. It also advances holds.through, below which
// only held topics' readings may be undelivered.
func (s *session) ackFront() error {
	delivered := s.readPos
	if low := s.outstanding(); low != noSeq {
		delivered = low - 1
	}
	h := &s.p.holds
	h.through = max(h.through, delivered)
	target := delivered
	if s.heldLow != noSeq {
		target = min(target, s.heldLow-1)
	}
	if target <= s.p.stats.ackedSeq.Load() {
		return nil
	}
	if err := s.p.queue.Ack(target); err != nil {
		return &fatalError{fmt.Errorf("ack buffer through seq %d: %w", target, err)}
	}
	s.p.stats.ackedSeq.Store(target)
	h.acked(target)
	return nil
}

// outstanding is the smallest seq read and neither delivered nor held:
// pending, in a builder, in flight or refused for now; noSeq when none.
func (s *session) outstanding() uint64 {
	low := s.failedLow
	if f, ok := s.p.packer.MinFirst(); ok {
		low = min(low, f)
	}
	if s.next < len(s.pending) {
		low = min(low, s.pending[s.next].Seq)
	}
	for _, m := range s.inflight {
		low = min(low, m.first)
	}
	return low
}

// requestRead asks the reader for more once the last batch is packed and the
// window has room: a full window stops reading, which is the backpressure.
// The send-rate cap does not: it holds back sends, and a read is what makes
// the loop wait for the cap (rateTimer) when builders are empty.
//
// The reader reads into the last batch's slice: every reading of it is
// packed, and nothing keeps a reference into it — the packer copies what
// it keeps (encoded bytes, strings), and the rest of the loop keeps seqs,
// times and topics — so it is free. The loop lets go of it until the
// result comes back.
func (s *session) requestRead() {
	if s.reading || s.next < len(s.pending) || s.windowShut() {
		return
	}
	buf := s.pending[:0]
	s.pending, s.next = nil, 0
	s.reading = true
	s.readReq <- readRequest{after: s.readPos, max: s.p.opts.ReadBatch, poll: s.p.opts.IdlePoll, buf: buf}
}

// checkDrained notes a completed drain: nothing left to read or send, and
// nothing refused waiting to be sent again. Held topics' readings stay in
// the buffer for later.
func (s *session) checkDrained() {
	p := s.p
	if p.isDrained || !p.draining.Load() || !s.empty || s.next < len(s.pending) ||
		p.packer.Oldest() != nil || len(s.inflight) > 0 || s.rw != nil || s.failedLow != noSeq {
		return
	}
	p.isDrained = true
	close(p.drained)
}
