package iothub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"factorybridge/publisher"
	"factorybridge/publisher/mqtt"
)

// Publisher publishes readings to IoT Hub or edgeHub: an mqtt.Publisher
// speaking the hub's dialect, whose Stats add the billable units.
type Publisher struct {
	mqtt    *mqtt.Publisher
	billing *billingMeter // every dialect's, across updates

	mu sync.Mutex // one Update at a time
	d  *dialect   // the latest accepted
}

var _ publisher.Publisher = (*Publisher)(nil)

// New checks opts and returns a Publisher; it does no I/O (TLS files are
// read when Run starts).
func New(opts Options) (*Publisher, error) {
	p := &Publisher{}
	d, mo, err := p.build(opts)
	if err != nil {
		return nil, err
	}
	if p.mqtt, err = mqtt.New(mo); err != nil {
		return nil, err
	}
	p.d, p.billing = d, d.billing
	return p, nil
}

// Update gives the running Publisher new settings, checked as New checks
// them; invalid ones return an error and change nothing. It is
// mqtt.Publisher.Update with the hub's dialect: a change of the identity,
// host, port, transport, credentials (the connection string's key or
// token, X.509 files, IoT Edge's workload) or CA files reconnects; the
// output and the MQTT tuning apply from the next message; twin,
// report_interval and token_lifetime from the next connection. The billable
// units go on counting. Safe to call from any goroutine.
func (p *Publisher) Update(opts Options) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, mo, err := p.build(opts)
	if err != nil {
		return err
	}
	d.inherit(p.d)
	if err := p.mqtt.Update(mo); err != nil {
		return err
	}
	p.d = d
	return nil
}

// build checks opts and returns the hub's dialect and the options of the
// MQTT publisher that speaks it.
func (p *Publisher) build(opts Options) (*dialect, mqtt.Options, error) {
	mo, err := hubMQTT(opts.MQTT)
	if err != nil {
		return nil, mo, err
	}
	opts.MQTT = mo
	d, err := newDialect(opts)
	if err != nil {
		return nil, mo, err
	}
	if d.Reporter == nil {
		d.Reporter = statsReporter{p}
	}
	mo.Dialect = d
	return d, mo, nil
}

// hubMQTT checks the MQTT tuning against the hub's rules and fills in the
// hub's defaults.
func hubMQTT(mo mqtt.Options) (mqtt.Options, error) {
	switch {
	case mo.QoS != nil && *mo.QoS != 1:
		return mo, errors.New("iothub: messages are sent at QoS 1; mqtt.qos must be 1")
	case mo.MaxMessageBytes > MaxPayloadBytes:
		return mo, fmt.Errorf("iothub: mqtt.max_message_bytes = %d is over the hub's limit (at most %d)", mo.MaxMessageBytes, MaxPayloadBytes)
	case mo.KeepAlive > MaxKeepAlive:
		return mo, fmt.Errorf("iothub: mqtt.keep_alive = %v is over the hub's limit (at most %v)", mo.KeepAlive, MaxKeepAlive)
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
	return mo, nil
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
	st.BillableUnits, st.BillableUnitsLastHour = p.billing.read(time.Now())
	return st
}

// statsReporter is the Reporter of Options that set none: the publisher's
// own counters, and no OEE.
type statsReporter struct{ p *Publisher }

func (r statsReporter) Status() any      { return r.p.Stats() }
func (r statsReporter) OEE() (any, bool) { return nil, false }
func (r statsReporter) Reported() any    { return r.p.Stats() }
