package iothub

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Timing of twin requests.
const (
	// twinAnswerTimeout is how long an answer to a GET or a reported patch
	// is awaited before the request counts as failed (the hub answers in
	// milliseconds; a lost answer must not block reporting for good).
	twinAnswerTimeout = 30 * time.Second
	// twinRetryMin and twinRetryMax bound the backoff after a refused or
	// unanswered twin request (429 when the twin is throttled, 5xx, 400).
	twinRetryMin = time.Second
	twinRetryMax = 5 * time.Minute
	// maxQueuedPatches bounds the desired patches kept while the GET is
	// outstanding; beyond it the GET's document is awaited alone.
	maxQueuedPatches = 16
)

// twinState follows the twin GET of one connection and the version of the
// desired properties applied (the device reconnection flow of Microsoft's
// device twin documentation: subscribe, GET, then ignore every patch whose
// $version is not above the GET's).
type twinState struct {
	getRID   string    // the outstanding GET's $rid
	sentAt   time.Time // when it was sent
	retryAt  time.Time // when to GET again after a failure; zero: not waiting
	backoff  twinBackoff
	answered bool // the hub answered a GET on this connection
	// version is the $version of the desired properties applied; -1 before
	// the GET's document.
	version int64
	queued  []request // desired patches received before the GET's document
}

func newTwinState() twinState {
	return twinState{version: -1, backoff: twinBackoff{min: twinRetryMin, max: twinRetryMax}}
}

// due is when the GET needs attention: its retry or its answer's deadline.
func (t *twinState) due() time.Time {
	switch {
	case !t.retryAt.IsZero():
		return t.retryAt
	case t.getRID != "":
		return t.sentAt.Add(twinAnswerTimeout)
	}
	return time.Time{}
}

// getTwin asks for the whole twin: desired changes made while the bridge
// was disconnected arrive only this way.
func (c *control) getTwin(now time.Time) {
	c.twin.getRID, c.twin.sentAt, c.twin.retryAt = c.nextRID("get"), now, time.Time{}
	c.publish("$iothub/twin/GET/?$rid="+c.twin.getRID, nil)
}

// twinDue sends the GET again when its retry is due, or gives up waiting
// for an overdue answer and schedules a retry.
func (c *control) twinDue(now time.Time) {
	t := &c.twin
	switch {
	case !t.retryAt.IsZero() && !now.Before(t.retryAt):
		c.getTwin(now)
	case t.retryAt.IsZero() && t.getRID != "" && now.Sub(t.sentAt) >= twinAnswerTimeout:
		c.log.Warn("iothub: no answer to the twin GET; asking again later", "after", twinAnswerTimeout)
		t.retryAt = now.Add(t.backoff.next())
	}
}

// twinResponse dispatches $iothub/twin/res/{status}/?$rid=…: the answer to
// the GET or to a reported patch.
func (c *control) twinResponse(topic string, payload []byte, now time.Time) {
	path, params := topicParams(topic)
	status, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, twinResPrefix), "/"))
	switch rid := params.Get("$rid"); {
	case rid != "" && rid == c.twin.getRID:
		c.getAnswered(status, payload, now)
	case rid != "" && rid == c.rep.rid:
		c.patchAnswered(status, payload, now)
	}
}

// getAnswered applies the twin's document, or schedules the GET again when
// the hub refused it (429 throttled, 5xx).
func (c *control) getAnswered(status int, payload []byte, now time.Time) {
	t := &c.twin
	t.getRID, t.answered = "", true
	c.d.tier.controlWorks()
	if status/100 != 2 {
		t.retryAt = now.Add(t.backoff.next())
		c.log.Warn("iothub: twin GET refused; asking again later", "status", status,
			"retry_in", t.retryAt.Sub(now).Round(time.Millisecond), "answer", clip(payload, 200))
		return
	}
	t.backoff.reset()
	var twin struct {
		Desired  json.RawMessage `json:"desired"`
		Reported map[string]any  `json:"reported"`
	}
	if err := decodeJSON(payload, &twin); err != nil {
		c.log.Warn("iothub: twin document is not JSON", "error", err)
		return
	}
	c.rep.gotTwin(twin.Reported)
	c.applyDesired(twin.Desired, "twin", -1)
	for _, m := range t.queued {
		c.desiredPatch(m.topic, m.payload)
	}
	t.queued = nil
	c.report(now)
}

// desiredPatch applies a desired-property patch newer than what was
// applied; one that arrives before the GET's document waits for it.
func (c *control) desiredPatch(topic string, payload []byte) {
	t := &c.twin
	if t.version < 0 {
		if len(t.queued) < maxQueuedPatches {
			t.queued = append(t.queued, request{topic, payload})
		}
		return
	}
	_, params := topicParams(topic)
	version, err := strconv.ParseInt(params.Get("$version"), 10, 64)
	if err != nil {
		version = docVersion(payload)
	}
	if version >= 0 && version <= t.version {
		c.log.Debug("iothub: desired patch older than the applied properties ignored",
			"version", version, "applied", t.version)
		return
	}
	c.applyDesired(payload, "patch", version)
}

// docVersion is a desired document's "$version", or -1.
func docVersion(doc []byte) int64 {
	var v struct {
		Version *int64 `json:"$version"`
	}
	if json.Unmarshal(doc, &v) != nil || v.Version == nil {
		return -1
	}
	return *v.Version
}

// applyDesired applies desired properties: logLevel; anything else is
// logged and ignored. version is the patch's, or -1 to take the document's.
func (c *control) applyDesired(doc []byte, from string, version int64) {
	if len(doc) == 0 {
		return
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(doc, &props); err != nil {
		c.log.Warn("iothub: desired properties are not a JSON object", "from", from, "error", err)
		return
	}
	if version < 0 {
		version = docVersion(doc)
	}
	c.twin.version = max(c.twin.version, version, 0)
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
		c.log.Warn("iothub: desired logLevel not applied", "value", string(clip(v, 40)))
		return
	}
	if err := c.d.SetLogLevel(level); err != nil {
		c.log.Warn("iothub: desired logLevel not applied", "value", level, "error", err)
		return
	}
	// At WARN, so that the change is on record whatever the new level.
	c.log.Warn("iothub: log level set from the twin", "log_level", level)
}

// decodeJSON decodes with numbers kept exact, as reported documents are
// compared with what the bridge reports.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// clip is at most n bytes of b, for a log line.
func clip(b []byte, n int) []byte { return b[:min(len(b), n)] }

// twinBackoff doubles from min to max; reset starts again from min.
type twinBackoff struct{ min, max, cur time.Duration }

func (b *twinBackoff) next() time.Duration {
	b.cur = min(max(2*b.cur, b.min), b.max)
	return b.cur
}

func (b *twinBackoff) reset() { b.cur = 0 }
