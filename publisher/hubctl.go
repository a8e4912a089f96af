package publisher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"factorybridge/publisher/iothub"
)

// Hub topics (../../shared/reference/iothub.md).
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

// hubSubscriptions are the topics a connection serves, within the hub's
// limit of five.
var hubSubscriptions = map[string]byte{"$iothub/methods/POST/#": 0, "$iothub/twin/res/#": 0, twinDesiredPref + "#": 0}

// hubControl serves one IoT Hub connection's control traffic, beside the
// session's telemetry: direct methods, the twin GET after connecting, the
// desired-property patches and the reported-property updates. It is one
// goroutine; paho's handlers only hand it the messages.
type hubControl struct {
	p      *Publisher
	client mqtt.Client
	fail   chan<- error
	in     chan mqtt.Message
	rid    uint64
	getRID string // $rid of the outstanding twin GET
	last   []byte // the last reported patch sent
}

func newHubControl(p *Publisher, l *link, fail chan<- error) *hubControl {
	return &hubControl{p: p, client: l.client, fail: fail, in: make(chan mqtt.Message, controlQueue)}
}

func (c *hubControl) run(ctx context.Context) {
	if err := c.subscribe(); err != nil {
		c.fail <- err // buffered: the session reads it or has ended
		return
	}
	c.getTwin()
	c.report()
	t := time.NewTicker(c.p.hub.ReportInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-c.in:
			c.handle(m)
		case <-t.C:
			c.report()
		}
	}
}

func (c *hubControl) subscribe() error {
	tok := c.client.SubscribeMultiple(hubSubscriptions, c.receive)
	if !tok.WaitTimeout(max(c.p.cfg.ConnectTimeout.D(), time.Second)) {
		return fmt.Errorf("subscribe to methods and twin: no SUBACK in %v", c.p.cfg.ConnectTimeout.D())
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("subscribe to methods and twin: %w", err)
	}
	for topic, code := range tok.(*mqtt.SubscribeToken).Result() {
		if code == 0x80 {
			return fmt.Errorf("subscribe to %s: refused by the hub", topic)
		}
	}
	return nil
}

// receive is paho's handler: it queues the message, or drops it when the
// control goroutine is that far behind.
func (c *hubControl) receive(_ mqtt.Client, m mqtt.Message) {
	select {
	case c.in <- m:
	default:
		c.p.log.Warn("iothub: too many requests from the hub waiting; one dropped", "topic", m.Topic())
	}
}

func (c *hubControl) handle(m mqtt.Message) {
	topic := m.Topic()
	switch {
	case strings.HasPrefix(topic, methodsPrefix):
		c.method(topic, m.Payload())
	case strings.HasPrefix(topic, twinResPrefix):
		c.twinResponse(topic, m.Payload())
	case strings.HasPrefix(topic, twinDesiredPref):
		c.desired(m.Payload(), "patch")
	}
}

func (c *hubControl) nextRID() string {
	c.rid++
	return strconv.FormatUint(c.rid, 10)
}

// publish sends a control message at QoS 0: the hub answers or retries at
// its level (a method caller gets a timeout), and a control message never
// waits behind the telemetry window for an acknowledgement.
func (c *hubControl) publish(topic string, payload []byte) {
	c.client.Publish(topic, 0, false, payload)
}

// topicParams splits a hub topic into its path and its query parameters.
func topicParams(topic string) (path string, params url.Values) {
	path, query, _ := strings.Cut(topic, "?")
	params, _ = url.ParseQuery(query)
	return path, params
}

// method answers a direct method call.
func (c *hubControl) method(topic string, payload []byte) {
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
	c.p.log.Info("iothub: direct method", "method", name, "status", status, "request_bytes", len(payload))
	c.publish(fmt.Sprintf("$iothub/methods/res/%d/?$rid=%s", status, url.QueryEscape(rid)), out)
}

func (c *hubControl) callMethod(name string) (int, any) {
	r := c.p.hub.Reporter
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

// getTwin asks for the whole twin: desired changes made while the bridge
// was disconnected arrive only this way.
func (c *hubControl) getTwin() {
	c.getRID = "get-" + c.nextRID()
	c.publish("$iothub/twin/GET/?$rid="+c.getRID, nil)
}

func (c *hubControl) twinResponse(topic string, payload []byte) {
	path, params := topicParams(topic)
	status := strings.TrimSuffix(strings.TrimPrefix(path, twinResPrefix), "/")
	rid := params.Get("$rid")
	if !strings.HasPrefix(status, "2") {
		c.p.log.Warn("iothub: twin request refused", "status", status, "rid", rid, "answer", string(payload[:min(len(payload), 200)]))
		return
	}
	if rid != c.getRID {
		return // a reported patch's 204
	}
	var twin struct {
		Desired json.RawMessage `json:"desired"`
	}
	if err := json.Unmarshal(payload, &twin); err != nil {
		c.p.log.Warn("iothub: twin document is not JSON", "error", err)
		return
	}
	c.desired(twin.Desired, "twin")
}

// desired applies desired properties: logLevel; anything else is logged
// and ignored.
func (c *hubControl) desired(doc []byte, from string) {
	var props map[string]json.RawMessage
	if len(doc) == 0 {
		return
	}
	if err := json.Unmarshal(doc, &props); err != nil {
		c.p.log.Warn("iothub: desired properties are not a JSON object", "from", from, "error", err)
		return
	}
	var ignored []string
	for k, v := range props {
		switch {
		case strings.HasPrefix(k, "$"):
		case k == "logLevel":
			c.setLogLevel(v)
		default:
			ignored = append(ignored, k)
		}
	}
	if len(ignored) > 0 {
		c.p.log.Info("iothub: desired properties ignored (only logLevel is applied)", "from", from, "properties", ignored)
	}
}

func (c *hubControl) setLogLevel(v json.RawMessage) {
	var level string
	if err := json.Unmarshal(v, &level); err != nil || c.p.hub.SetLogLevel == nil {
		c.p.log.Warn("iothub: desired logLevel not applied", "value", string(v[:min(len(v), 40)]))
		return
	}
	if err := c.p.hub.SetLogLevel(level); err != nil {
		c.p.log.Warn("iothub: desired logLevel not applied", "value", level, "error", err)
		return
	}
	// At WARN, so that the change is on record whatever the new level.
	c.p.log.Warn("iothub: log level set from the twin", "log_level", level)
}

// report patches the twin's reported properties when they changed.
func (c *hubControl) report() {
	doc, err := json.Marshal(c.p.hub.Reporter.Reported())
	if err != nil {
		c.p.log.Warn("iothub: reported properties not sent", "error", err)
		return
	}
	if bytes.Equal(doc, c.last) {
		return
	}
	c.last = doc
	c.publish("$iothub/twin/PATCH/properties/reported/?$rid=patch-"+c.nextRID(), doc)
	c.p.log.Debug("iothub: twin reported properties updated", slog.Int("bytes", len(doc)))
	c.sendStatus()
}

// sendStatus sends the bridge's status as a device-to-cloud message of type
// "status" with each twin update, so that a hub route can watch bridges
// without querying twins. It is not buffered: a status is only news when
// it is current.
func (c *hubControl) sendStatus() {
	body, err := json.Marshal(map[string]any{"type": "status", "bridge": c.p.hub.bridgeID,
		"time": time.Now().UTC().Format(time.RFC3339Nano), "status": c.p.hub.Reporter.Status()})
	if err != nil || len(body) > c.p.cfg.MaxMessageBytes {
		c.p.log.Warn("iothub: status message not sent", "error", err, "bytes", len(body))
		return
	}
	c.client.Publish(c.p.hub.statusTopic+"&$.mid="+iothub.Escape(c.p.hub.bridgeID)+"-status-"+c.nextRID(), 1, false, body)
}

// statsReporter is the Reporter of a Hub that sets none: the publisher's
// own counters, and no OEE.
type statsReporter struct{ p *Publisher }

func (r statsReporter) Status() any      { return r.p.Stats() }
func (r statsReporter) OEE() (any, bool) { return nil, false }
func (r statsReporter) Reported() any    { return r.p.Stats() }
