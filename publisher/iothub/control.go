package iothub

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
// desired-property patches and the reported-property updates. It is one
// goroutine; the client's handler only hands it the messages.
type control struct {
	d      *dialect
	log    *slog.Logger
	conn   mqtt.Conn
	in     chan request
	rid    uint64
	getRID string // $rid of the outstanding twin GET
	last   []byte // the last reported patch sent
}

// request is a message from the hub.
type request struct {
	topic   string
	payload []byte
}

func newControl(d *dialect, conn mqtt.Conn) *control {
	return &control{d: d, log: d.MQTT.Logger, conn: conn, in: make(chan request, controlQueue)}
}

// run serves until ctx ends; its error, that the subscriptions failed,
// ends the session.
func (c *control) run(ctx context.Context) error {
	if err := c.conn.Subscribe(subscriptions, c.receive); err != nil {
		return fmt.Errorf("subscribe to methods and twin: %w", err)
	}
	c.getTwin()
	c.report()
	t := time.NewTicker(c.d.ReportInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-c.in:
			c.handle(m)
		case <-t.C:
			c.report()
		}
	}
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

func (c *control) handle(m request) {
	switch {
	case strings.HasPrefix(m.topic, methodsPrefix):
		c.method(m.topic, m.payload)
	case strings.HasPrefix(m.topic, twinResPrefix):
		c.twinResponse(m.topic, m.payload)
	case strings.HasPrefix(m.topic, twinDesiredPref):
		c.desired(m.payload, "patch")
	}
}

func (c *control) nextRID() string {
	c.rid++
	return strconv.FormatUint(c.rid, 10)
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

// getTwin asks for the whole twin: desired changes made while the bridge
// was disconnected arrive only this way.
func (c *control) getTwin() {
	c.getRID = "get-" + c.nextRID()
	c.publish("$iothub/twin/GET/?$rid="+c.getRID, nil)
}

func (c *control) twinResponse(topic string, payload []byte) {
	path, params := topicParams(topic)
	status := strings.TrimSuffix(strings.TrimPrefix(path, twinResPrefix), "/")
	rid := params.Get("$rid")
	if !strings.HasPrefix(status, "2") {
		c.log.Warn("iothub: twin request refused", "status", status, "rid", rid, "answer", string(payload[:min(len(payload), 200)]))
		return
	}
	if rid != c.getRID {
		return // a reported patch's 204
	}
	var twin struct {
		Desired json.RawMessage `json:"desired"`
	}
	if err := json.Unmarshal(payload, &twin); err != nil {
		c.log.Warn("iothub: twin document is not JSON", "error", err)
		return
	}
	c.desired(twin.Desired, "twin")
}

// desired applies desired properties: logLevel; anything else is logged
// and ignored.
func (c *control) desired(doc []byte, from string) {
	var props map[string]json.RawMessage
	if len(doc) == 0 {
		return
	}
	if err := json.Unmarshal(doc, &props); err != nil {
		c.log.Warn("iothub: desired properties are not a JSON object", "from", from, "error", err)
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
		c.log.Info("iothub: desired properties ignored (only logLevel is applied)", "from", from, "properties", ignored)
	}
}

func (c *control) setLogLevel(v json.RawMessage) {
	var level string
	if err := json.Unmarshal(v, &level); err != nil || c.d.SetLogLevel == nil {
		c.log.Warn("iothub: desired logLevel not applied", "value", string(v[:min(len(v), 40)]))
		return
	}
	if err := c.d.SetLogLevel(level); err != nil {
		c.log.Warn("iothub: desired logLevel not applied", "value", level, "error", err)
		return
	}
	// At WARN, so that the change is on record whatever the new level.
	c.log.Warn("iothub: log level set from the twin", "log_level", level)
}

// report patches the twin's reported properties when they changed.
func (c *control) report() {
	doc, err := json.Marshal(c.d.Reporter.Reported())
	if err != nil {
		c.log.Warn("iothub: reported properties not sent", "error", err)
		return
	}
	if bytes.Equal(doc, c.last) {
		return
	}
	c.last = doc
	c.publish("$iothub/twin/PATCH/properties/reported/?$rid=patch-"+c.nextRID(), doc)
	c.log.Debug("iothub: twin reported properties updated", slog.Int("bytes", len(doc)))
	c.sendStatus()
}

// sendStatus sends the bridge's status as a device-to-cloud message of type
// "status" with each twin update, so that a hub route can watch bridges
// without querying twins. It is not buffered: a status is only news when
// it is current.
func (c *control) sendStatus() {
	bridge := c.d.MQTT.BridgeID
	body, err := json.Marshal(map[string]any{"type": "status", "bridge": bridge,
		"time": time.Now().UTC().Format(time.RFC3339Nano), "status": c.d.Reporter.Status()})
	if err != nil || len(body) > c.d.MQTT.MaxMessageBytes {
		c.log.Warn("iothub: status message not sent", "error", err, "bytes", len(body))
		return
	}
	c.conn.Publish(c.d.statusTopic+"&$.mid="+Escape(bridge)+"-status-"+c.nextRID(), 1, body)
}
