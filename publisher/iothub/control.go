package iothub

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"factorybridge/publisher/mqtt"
)

// Hub topics: direct methods, twin responses and desired-property patches.
const (
	methodsPrefix   = "$iothub/methods/POST/"
	twinResPrefix   = "$iothub/twin/res/"
	twinDesiredPref = "$iothub/twin/PATCH/properties/desired/"
	// maxMethodResponse is the hub's limit on a direct method's answer.
	maxMethodResponse = 128 << 10
	// controlQueue bounds the hub's requests waiting to be handled; more
	// are dropped (a method caller then times out and may call again).
	controlQueue = 16
)

// subscriptions are the topics a connection serves, within the hub's
// limit of five.
var subscriptions = map[string]byte{"$iothub/methods/POST/#": 0, "$iothub/twin/res/#": 0, twinDesiredPref + "#": 0}

// control serves one IoT Hub connection's control traffic, beside the
// session's telemetry: direct methods, the twin GET after connecting, the
// desired-property patches and the reported-property updates (twin.go,
// report.go). It is one goroutine; the client's handler only hands it the
// messages. Its twin and methods are off when the hub has none (tier.go).
type control struct {
	d    *dialect
	log  *slog.Logger
	conn mqtt.Conn
	in   chan request
	rid  uint64
	twin twinState
	rep  reportState
	wake *time.Timer // the next retry or request deadline
}

// request is a message from the hub.
type request struct {
	topic   string
	payload []byte
}

func newControl(d *dialect, conn mqtt.Conn) *control {
	return &control{d: d, log: d.MQTT.Logger, conn: conn, in: make(chan request, controlQueue),
		twin: newTwinState(), rep: newReportState()}
}

// run serves until ctx ends. The hub refusing methods and the twin ends
// nothing: telemetry goes on, and the connection's loss (how the hub
// refuses) is counted towards detecting a Basic-tier hub.
func (c *control) run(ctx context.Context) error {
	c.wake = time.NewTimer(time.Hour)
	defer c.wake.Stop()
	if !c.d.tier.withTwin(c.log) {
		return c.serve(ctx, false)
	}
	if err := c.conn.Subscribe(subscriptions, c.receive); err != nil {
		c.d.tier.subscribeFailed(c.log, err, endsSoon(ctx))
		return c.serve(ctx, false)
	}
	c.getTwin(time.Now())
	err := c.serve(ctx, true)
	if c.twin.getRID != "" && !c.twin.answered {
		c.d.tier.controlLost(c.log) // the connection ended before the hub answered the GET
	}
	return err
}

// lossGrace is how long after a failed SUBSCRIBE the session has to end
// for the failure to count as the hub closing the connection: paho fails
// the SUBSCRIBE and reports the loss to the session at about the same time.
const lossGrace = time.Second

// endsSoon reports whether ctx ends within lossGrace.
func endsSoon(ctx context.Context) bool {
	t := time.NewTimer(lossGrace)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return true
	case <-t.C:
		return false
	}
}

// serve handles the hub's requests, the reporting ticks and the retries
// until ctx ends; twin says whether the twin is in use on this connection.
func (c *control) serve(ctx context.Context, twin bool) error {
	c.rep.twin = twin
	c.report(time.Now())
	t := time.NewTicker(c.d.ReportInterval)
	defer t.Stop()
	for {
		c.armWake()
		select {
		case <-ctx.Done():
			return nil
		case m := <-c.in:
			c.handle(m, time.Now())
		case now := <-t.C:
			c.report(now)
		case now := <-c.wake.C:
			c.retry(now)
		}
	}
}

// armWake sets the wake timer to the earliest retry or request deadline.
func (c *control) armWake() {
	next := earliest(c.twin.due(), c.rep.due())
	if next.IsZero() {
		next = time.Now().Add(time.Hour)
	}
	c.wake.Reset(time.Until(next))
}

// retry runs what is due: a twin GET or a reported patch to send again, or
// one whose answer is overdue.
func (c *control) retry(now time.Time) {
	c.twinDue(now)
	c.reportDue(now)
}

// earliest is the earlier of two times, zero meaning none.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// receive is the client's handler: it queues the message, or drops it when
// the control goroutine is that far behind.
func (c *control) receive(topic string, payload []byte) {
	select {
	case c.in <- request{topic, payload}:
	default:
		c.log.Warn("iothub: too many requests from the hub waiting; one dropped", "topic", topic)
	}
}

func (c *control) handle(m request, now time.Time) {
	switch {
	case strings.HasPrefix(m.topic, methodsPrefix):
		c.method(m.topic, m.payload)
	case strings.HasPrefix(m.topic, twinResPrefix):
		c.twinResponse(m.topic, m.payload, now)
	case strings.HasPrefix(m.topic, twinDesiredPref):
		c.desiredPatch(m.topic, m.payload)
	}
}

func (c *control) nextRID(kind string) string {
	c.rid++
	return kind + "-" + strconv.FormatUint(c.rid, 10)
}

// publish sends a control message at QoS 0: the hub answers or retries at
// its level (a method caller gets a timeout), and a control message never
// waits behind the telemetry window for an acknowledgement.
func (c *control) publish(topic string, payload []byte) {
	c.conn.Publish(topic, 0, payload)
}

// topicParams splits a hub topic into its path and its query parameters.
func topicParams(topic string) (path string, params url.Values) {
	path, query, _ := strings.Cut(topic, "?")
	params, _ = url.ParseQuery(query)
	return path, params
}

// method answers a direct method call.
func (c *control) method(topic string, payload []byte) {
	path, params := topicParams(topic)
	name := strings.TrimSuffix(strings.TrimPrefix(path, methodsPrefix), "/")
	rid := params.Get("$rid")
	status, body := c.callMethod(name)
	out, err := json.Marshal(body)
	if err == nil && len(out) > maxMethodResponse {
		err = fmt.Errorf("answer of %d bytes is over the hub's 128 KB", len(out))
	}
	if err != nil {
		status, out = 500, errorBody(fmt.Sprintf("%s: %v", name, err))
	}
	c.log.Info("iothub: direct method", "method", name, "status", status, "request_bytes", len(payload))
	c.publish(fmt.Sprintf("$iothub/methods/res/%d/?$rid=%s", status, url.QueryEscape(rid)), out)
}

func (c *control) callMethod(name string) (int, any) {
	r := c.d.Reporter
	switch name {
	case "GetStatus":
		return 200, r.Status()
	case "GetOEE":
		if v, ok := r.OEE(); ok {
			return 200, v
		}
		return 200, map[string]any{"configured": false,
			"message": "no line computes OEE: map stations' nodes in [lines.stations.oee] and set [lines.oee]"}
	}
	return 404, map[string]string{"error": fmt.Sprintf("unknown method %q (valid: GetStatus, GetOEE)", name)}
}

func errorBody(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return b
}
