package iothub

import (
	"encoding/json"
	"log/slog"
	"time"
)

// reportState follows the reported properties: what the hub confirmed, the
// patch awaiting its answer, and the retry after a refusal.
type reportState struct {
	twin bool // the twin is in use on this connection
	// acked are the reported properties as the hub has them: from the
	// GET's document, then each patch it answered 2xx. nil until the GET.
	acked   map[string]any
	rid     string         // the outstanding patch's $rid
	pending map[string]any // the document that patch brings the twin to
	sentAt  time.Time
	retryAt time.Time // zero: not waiting to retry
	backoff twinBackoff
	failing bool   // the last patch was refused: its recovery is logged
	status  []byte // the document last sent as a status message
}

func newReportState() reportState {
	return reportState{backoff: twinBackoff{min: twinRetryMin, max: twinRetryMax}}
}

// gotTwin records the reported properties of the GET's document, so that
// the first patch brings them to the bridge's (removing what an earlier
// configuration reported) instead of resending everything.
func (r *reportState) gotTwin(reported map[string]any) {
	r.acked = withoutMeta(reported)
}

// due is when the reported patch needs attention: its retry or its
// answer's deadline.
func (r *reportState) due() time.Time {
	switch {
	case !r.retryAt.IsZero():
		return r.retryAt
	case r.rid != "":
		return r.sentAt.Add(twinAnswerTimeout)
	}
	return time.Time{}
}

// report sends the bridge's status as a message when it changed and, when
// the twin is in use and known, patches the reported properties with what
// changed since the hub last confirmed them. One patch is outstanding at a
// time, and none while a refused one waits for its retry.
func (c *control) report(now time.Time) {
	doc, err := twinDoc(c.d.Reporter.Reported())
	if err != nil {
		c.log.Warn("iothub: reported properties not sent", "error", err)
		return
	}
	c.statusOnChange(doc)
	r := &c.rep
	if !r.twin || r.acked == nil || r.rid != "" || !r.retryAt.IsZero() {
		return
	}
	patch := mergePatch(r.acked, doc)
	if len(patch) == 0 {
		return
	}
	body, err := json.Marshal(patch)
	if err != nil {
		c.log.Warn("iothub: reported properties not sent", "error", err)
		return
	}
	r.rid, r.pending, r.sentAt = c.nextRID("patch"), doc, now
	c.publish("$iothub/twin/PATCH/properties/reported/?$rid="+r.rid, body)
	c.log.Debug("iothub: twin reported properties sent", slog.Int("bytes", len(body)))
}

// patchAnswered records a confirmed patch, or schedules the next one with
// backoff when the hub refused it: 400 (a document the hub does not take),
// 429 (twin updates throttled), 5xx. A refusal is logged when the patches
// start failing, not at every retry, and the recovery is logged.
func (c *control) patchAnswered(status int, payload []byte, now time.Time) {
	r := &c.rep
	r.rid = ""
	if status/100 == 2 {
		r.acked, r.pending = r.pending, nil
		r.backoff.reset()
		if r.failing {
			r.failing = false
			c.log.Info("iothub: twin reported properties accepted again")
		}
		return
	}
	c.patchFailed(now, "status", status, "answer", string(clip(payload, 200)))
}

// reportDue sends the patch again when its retry is due, or gives up
// waiting for an overdue answer.
func (c *control) reportDue(now time.Time) {
	r := &c.rep
	switch {
	case !r.retryAt.IsZero() && !now.Before(r.retryAt):
		r.retryAt = time.Time{}
		c.report(now)
	case r.retryAt.IsZero() && r.rid != "" && now.Sub(r.sentAt) >= twinAnswerTimeout:
		r.rid = ""
		c.patchFailed(now, "error", "no answer", "after", twinAnswerTimeout)
	}
}

// patchFailed schedules the retry and logs the first failure of a run.
func (c *control) patchFailed(now time.Time, attrs ...any) {
	r := &c.rep
	r.pending = nil
	r.retryAt = now.Add(r.backoff.next())
	attrs = append(attrs, "retry_in", r.retryAt.Sub(now).Round(time.Millisecond))
	if r.failing {
		c.log.Debug("iothub: twin reported properties refused again", attrs...)
		return
	}
	r.failing = true
	c.log.Warn("iothub: twin reported properties refused; retrying with backoff", attrs...)
}

// statusOnChange sends the bridge's status as a device-to-cloud message of
// type "status" whenever the reported document changed, so that a hub
// route can watch bridges without querying twins (and on a Basic-tier hub,
// which has no twin). It is not buffered: a status is only news when it is
// current.
func (c *control) statusOnChange(doc map[string]any) {
	key, err := json.Marshal(doc)
	if err != nil || string(key) == string(c.rep.status) {
		return
	}
	c.rep.status = key
	bridge := c.d.MQTT.BridgeID
	body, err := json.Marshal(map[string]any{"type": "status", "bridge": bridge,
		"time": time.Now().UTC().Format(time.RFC3339Nano), "status": c.d.Reporter.Status()})
	if err != nil || len(body) > c.d.MQTT.MaxMessageBytes {
		c.log.Warn("iothub: status message not sent", "error", err, "bytes", len(body))
		return
	}
	c.conn.Publish(c.d.statusTopic+"&$.mid="+Escape(bridge)+"-status-"+c.nextRID("s"), 1, body)
}
