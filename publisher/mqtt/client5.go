package mqtt

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// contentType is the MQTT 5 content type of every message the bridge sends.
const contentType = "application/json"

// User properties of an MQTT 5 message: the seqs of its first and last
// readings, so a consumer can drop duplicates or spot gaps without parsing
// the payload.
const (
	propFirst = "first"
	propLast  = "last"
)

// client5 is an MQTT 5 connection (paho.golang). Messages are written in
// the order publish is called, from the caller's goroutine; their PUBACKs
// complete tokens through state5.
type client5 struct {
	c   *paho.Client
	st  *state5
	ctx context.Context // ends when the connection is closed

	mu       sync.Mutex // one publish at a time: the token hand-over and the aliases
	aliases  map[string]uint16
	aliasMax uint16

	subMu sync.Mutex
	subs  []subscription
}

var _ client = (*client5)(nil)

// subscription is one topic filter and what gets its messages.
type subscription struct {
	filter string
	handle func(topic string, payload []byte)
}

// publish writes m. A topic that repeats uses a topic alias once the broker
// allows them: the first message on the topic sets the alias up, later
// ones send two bytes in place of the topic.
func (c *client5) publish(m outgoing) token {
	c.mu.Lock()
	defer c.mu.Unlock()
	pb := &paho.Publish{QoS: m.qos, Topic: m.topic, Payload: m.payload, Retain: m.retain,
		Properties: &paho.PublishProperties{ContentType: contentType}}
	if m.first != 0 {
		pb.Properties.User = paho.UserProperties{
			{Key: propFirst, Value: strconv.FormatUint(m.first, 10)},
			{Key: propLast, Value: strconv.FormatUint(m.last, 10)},
		}
	}
	c.alias(pb)
	opts := paho.PublishOptions{Method: paho.PublishMethod_AsyncSend}
	if m.qos == 0 {
		_, err := c.c.PublishWithOptions(c.ctx, pb, opts)
		return doneToken{err}
	}
	t := newToken5()
	c.st.expect(t, m.topic)
	_, err := c.c.PublishWithOptions(c.ctx, pb, opts)
	if err != nil && !errors.Is(err, paho.ErrNetworkErrorAfterStored) {
		c.st.expect(nil, "") // it never reached the session state
		t.finish(err)
	}
	return t // stored but not written: the connection is lost; a resumed session resends it
}

// alias replaces pb's topic by an alias when it has one, or assigns one
// while the broker's Topic Alias Maximum allows.
func (c *client5) alias(pb *paho.Publish) {
	if c.aliasMax == 0 {
		return
	}
	a, ok := c.aliases[pb.Topic]
	switch {
	case ok:
		pb.Topic = ""
	case len(c.aliases) < int(c.aliasMax):
		a = uint16(len(c.aliases) + 1)
		c.aliases[pb.Topic] = a
	default:
		return
	}
	pb.Properties.TopicAlias = &a
}

func (c *client5) subscribe(filters map[string]byte, handle func(topic string, payload []byte), timeout time.Duration) error {
	sub := &paho.Subscribe{}
	c.subMu.Lock()
	for f, qos := range filters {
		sub.Subscriptions = append(sub.Subscriptions, paho.SubscribeOptions{Topic: f, QoS: qos})
		c.subs = append(c.subs, subscription{f, handle})
	}
	c.subMu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	sa, err := c.c.Subscribe(ctx, sub)
	if sa != nil {
		for i, code := range sa.Reasons {
			if code >= 0x80 && i < len(sub.Subscriptions) {
				return fmt.Errorf("subscribe to %s: %w: %w", sub.Subscriptions[i].Topic, ErrSubscriptionRefused,
					&ReasonError{Packet: "SUBACK", Code: code})
			}
		}
	}
	return err
}

func (c *client5) unsubscribe(timeout time.Duration, topics ...string) error {
	c.subMu.Lock()
	c.subs = removeFilters(c.subs, topics)
	c.subMu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	_, err := c.c.Unsubscribe(ctx, &paho.Unsubscribe{Topics: topics})
	return err
}

// disconnect sends DISCONNECT and waits for paho's goroutines to end. final
// sets the session expiry to zero: the broker may drop the session now.
func (c *client5) disconnect(final bool) {
	d := &paho.Disconnect{ReasonCode: 0}
	if final {
		zero := uint32(0)
		d.Properties = &paho.DisconnectProperties{SessionExpiryInterval: &zero}
	}
	_ = c.c.Disconnect(d) // the connection is closed either way
}

// received passes a message to the subscriptions whose filter matches it.
func (c *client5) received(pr paho.PublishReceived) (bool, error) {
	c.subMu.Lock()
	subs := c.subs
	c.subMu.Unlock()
	for _, s := range subs {
		if topicMatches(s.filter, pr.Packet.Topic) {
			s.handle(pr.Packet.Topic, pr.Packet.Payload)
		}
	}
	return true, nil
}

func removeFilters(subs []subscription, topics []string) []subscription {
	var out []subscription
	for _, s := range subs {
		keep := true
		for _, t := range topics {
			keep = keep && s.filter != t
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

// topicMatches reports whether topic matches the MQTT topic filter.
func topicMatches(filter, topic string) bool {
	fs, ts := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, f := range fs {
		switch {
		case f == "#":
			return true
		case i >= len(ts):
			return false
		case f != "+" && f != ts[i]:
			return false
		}
	}
	return len(fs) == len(ts)
}
