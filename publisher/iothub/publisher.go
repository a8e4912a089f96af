package iothub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"factorybridge/publisher"
	"factorybridge/publisher/mqtt"
)

// Publisher publishes readings to IoT Hub or edgeHub: an mqtt.Publisher
// speaking the hub's dialect, whose Stats add the billable units.
type Publisher struct {
	mqtt *mqtt.Publisher
	d    *dialect
}

var _ publisher.Publisher = (*Publisher)(nil)

// New checks opts and returns a Publisher; it does no I/O (TLS files are
// read when Run starts).
func New(opts Options) (*Publisher, error) {
	mo := opts.MQTT
	switch {
	case mo.QoS != nil && *mo.QoS != 1:
		return nil, errors.New("iothub: messages are sent at QoS 1; mqtt.qos must be 1")
	case mo.MaxMessageBytes > MaxPayloadBytes:
		return nil, fmt.Errorf("iothub: mqtt.max_message_bytes = %d is over the hub's limit (at most %d)", mo.MaxMessageBytes, MaxPayloadBytes)
	case mo.KeepAlive > MaxKeepAlive:
		return nil, fmt.Errorf("iothub: mqtt.keep_alive = %v is over the hub's limit (at most %v)", mo.KeepAlive, MaxKeepAlive)
	}
	if mo.MaxMessageBytes == 0 {
		mo.MaxMessageBytes = MaxPayloadBytes
	}
	if mo.AckTimeout == 0 {
		mo.AckTimeout = DefaultAckTimeout
	}
	if mo.Logger == nil {
		mo.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts.MQTT = mo
	d, err := newDialect(opts)
	if err != nil {
		return nil, err
	}
	p := &Publisher{d: d}
	if d.Reporter == nil {
		d.Reporter = statsReporter{p}
	}
	mo.Dialect = d
	if p.mqtt, err = mqtt.New(mo); err != nil {
		return nil, err
	}
	return p, nil
}

// Run connects to the hub and publishes until ctx ends, as
// mqtt.Publisher.Run does, serving direct methods and the twin on each
// connection.
func (p *Publisher) Run(ctx context.Context) error { return p.mqtt.Run(ctx) }

// Drain is the bounded final publish of a shutdown (mqtt.Publisher.Drain).
func (p *Publisher) Drain(ctx context.Context) error { return p.mqtt.Drain(ctx) }

// Stats returns the publisher's counters and state, with the billable
// units IoT Hub meters the messages sent in.
func (p *Publisher) Stats() publisher.Stats {
	st := p.mqtt.Stats()
	st.BillableUnits, st.BillableUnitsLastHour = p.d.billing.read(time.Now())
	return st
}

// statsReporter is the Reporter of Options that set none: the publisher's
// own counters, and no OEE.
type statsReporter struct{ p *Publisher }

func (r statsReporter) Status() any      { return r.p.Stats() }
func (r statsReporter) OEE() (any, bool) { return nil, false }
func (r statsReporter) Reported() any    { return r.p.Stats() }
