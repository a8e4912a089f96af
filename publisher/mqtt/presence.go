package mqtt

import (
	"bytes"
	"errors"
	"time"
)

// presenceTimeout bounds the wait for the broker to take the stopped
// message at shutdown.
const presenceTimeout = 2 * time.Second

// Presence is a retained message on Topic that tells consumers whether the
// bridge is there: Online is published after every connect (the birth),
// Offline is the connection's last will, which the broker publishes when
// the connection ends without a DISCONNECT (a crash, kill -9, a network
// cut, a missed keep-alive), and Stopped is published by the Publisher
// itself before it disconnects when Run's context ends, since a clean
// DISCONNECT discards the will. All three go at QoS 1, retained, so a
// consumer that subscribes later still sees the latest.
type Presence struct {
	Topic                    string
	Online, Offline, Stopped []byte
}

func (o *Options) checkPresence() error {
	switch p := o.Presence; {
	case p == nil:
		return nil
	case o.Dialect != nil:
		return errors.New("mqtt: Presence needs a plain broker: a Dialect's service has no retained messages or last will")
	case p.Topic == "":
		return errors.New("mqtt: Presence.Topic is required")
	}
	return nil
}

// born publishes the Online message on a new connection, not waiting for
// its acknowledgement: it goes out before the readings that follow it.
func (p *Publisher) born(l *link) {
	if pr := p.opts.Presence; pr != nil && p.canRetain(l) {
		l.client.publish(outgoing{topic: pr.Topic, qos: 1, retain: true, payload: pr.Online})
	}
}

// reborn publishes the Online message again after an update changed it
// (the config digest it carries), so that the retained birth describes the
// settings in force. The last will keeps the Offline message the
// connection was made with.
func (p *Publisher) reborn(l *link, old *Presence) {
	if pr := p.opts.Presence; pr != nil && old != nil && !bytes.Equal(pr.Online, old.Online) {
		p.born(l)
	}
}

// goodbye publishes the Stopped message when the Publisher is stopping, and
// waits a moment for the broker to take it.
func (p *Publisher) goodbye(l *link) {
	pr := p.opts.Presence
	if pr == nil || !l.caps.retain {
		return
	}
	tok := l.client.publish(outgoing{topic: pr.Topic, qos: 1, retain: true, payload: pr.Stopped})
	var err error
	select {
	case <-tok.Done():
		err = tok.Err()
	case <-time.After(presenceTimeout):
		err = errors.New("no acknowledgement in time")
	}
	if err != nil {
		p.log.Warn("mqtt: the stopped presence message was not acknowledged; consumers see the last will instead",
			"topic", pr.Topic, "error", err)
	}
}

// canRetain reports whether the broker takes retained messages (an MQTT 5
// CONNACK may say it does not; a retained PUBLISH would then end the
// connection), and says once per connection when it does not.
func (p *Publisher) canRetain(l *link) bool {
	if !l.caps.retain {
		p.log.Warn("mqtt: the broker does not keep retained messages; no presence on the status topic",
			"topic", p.opts.Presence.Topic)
	}
	return l.caps.retain
}
