package hubsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
)

// Twin limits the stand-in enforces, as the hub does: reported properties
// up to 32 KB, objects nested up to 10 levels, keys without '.', '$', space
// or control characters, up to 1 KB (and checkKeys' value rules).
const (
	maxReportedSize = 32 * 1024
	maxTwinDepth    = 10
	maxTwinKey      = 1024
)

// twin is an identity's desired and reported properties with their versions.
type twin struct {
	desired, reported               map[string]any
	desiredVersion, reportedVersion int
}

func newTwin() twin {
	return twin{desired: map[string]any{}, reported: map[string]any{}, desiredVersion: 1, reportedVersion: 1}
}

// twinGet answers $iothub/twin/GET/?$rid=… with the whole twin.
func (h *Hub) twinGet(c *conn, query string) *violation {
	rid, v := requireRID(query)
	if v != nil {
		return v
	}
	if status, fail := h.twinFailure(); fail {
		return h.twinAnswer(c, status, rid, "", errorBody(errors.New("injected failure (Hub.FailTwin)")))
	}
	h.mu.Lock()
	tw := &c.id.twin
	body, err := json.Marshal(map[string]any{
		"desired":  withVersion(tw.desired, tw.desiredVersion),
		"reported": withVersion(tw.reported, tw.reportedVersion),
	})
	h.mu.Unlock()
	if err != nil {
		return h.twinAnswer(c, 500, rid, "", errorBody(err))
	}
	return h.twinAnswer(c, 200, rid, "", body)
}

// twinPatch merges a reported-properties patch (null deletes) and answers
// 204 with the new version, or 400 for a patch the hub would not take.
func (h *Hub) twinPatch(c *conn, query string, payload []byte) *violation {
	rid, v := requireRID(query)
	if v != nil {
		return v
	}
	if status, fail := h.twinFailure(); fail {
		return h.twinAnswer(c, status, rid, "", errorBody(errors.New("injected failure (Hub.FailTwin)")))
	}
	var patch map[string]any
	err := json.Unmarshal(payload, &patch)
	if err == nil && patch == nil {
		err = errors.New("patch is not a JSON object")
	}
	if err == nil {
		err = checkKeys(patch, 1)
	}
	var version int
	if err == nil {
		version, err = h.mergeReported(c.id, patch)
	}
	if err != nil {
		return h.twinAnswer(c, 400, rid, "", errorBody(err))
	}
	return h.twinAnswer(c, 204, rid, fmt.Sprintf("&$version=%d", version), nil)
}

func (h *Hub) mergeReported(id *identity, patch map[string]any) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	merged, err := cloneJSON(id.twin.reported)
	if err != nil {
		return 0, err
	}
	mergePatch(merged, patch)
	if b, _ := json.Marshal(merged); len(b) > maxReportedSize {
		return 0, fmt.Errorf("reported properties of %d bytes, limit %d", len(b), maxReportedSize)
	}
	id.twin.reported = merged
	id.twin.reportedVersion++
	h.changed()
	return id.twin.reportedVersion, nil
}

// FailTwin makes the hub answer its next twin requests (GETs and reported
// patches, in arrival order) with statuses, one each, as the hub does when
// twin operations are throttled (429) or fail (5xx).
func (h *Hub) FailTwin(statuses ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.twinFail = append(h.twinFail, statuses...)
}

// twinFailure takes the next injected failure, if any.
func (h *Hub) twinFailure() (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.twinFail) == 0 {
		return 0, false
	}
	status := h.twinFail[0]
	h.twinFail = h.twinFail[1:]
	return status, true
}

// twinAnswer publishes $iothub/twin/res/{status}/?$rid={rid}{extra} if the
// client subscribed to twin responses (else the hub has nowhere to send it).
func (h *Hub) twinAnswer(c *conn, status int, rid, extra string, body []byte) *violation {
	if h.subscribed(c, twinResFilter) {
		_ = h.send(c, fmt.Sprintf("$iothub/twin/res/%d/?$rid=%s%s", status, url.QueryEscape(rid), extra), body)
	}
	return nil
}

// requireRID extracts $rid from a request topic's query; without one the
// client could not match the answer, and the hub closes the connection.
func requireRID(query string) (string, *violation) {
	q, err := url.ParseQuery(query)
	if err != nil || q.Get("$rid") == "" {
		return "", violate(ReasonMalformed, "request without $rid: %q", query)
	}
	return q.Get("$rid"), nil
}

// SetDesired merges patch into the identity's desired properties (null
// deletes), bumps their version and, if the identity is connected and
// subscribed to desired-property updates, publishes the patch with its
// "$version". An unknown identity fails the test.
func (h *Hub) SetDesired(deviceID, moduleID string, patch map[string]any) {
	h.t.Helper()
	p, err := cloneJSON(patch)
	if err != nil {
		h.t.Errorf("hubsim: SetDesired: %v", err)
		return
	}
	h.mu.Lock()
	id := h.ids[identityKey{deviceID, moduleID}.clientID()]
	if id == nil {
		h.mu.Unlock()
		h.t.Errorf("hubsim: SetDesired: no identity %s/%s", deviceID, moduleID)
		return
	}
	mergePatch(id.twin.desired, p)
	id.twin.desiredVersion++
	p["$version"] = id.twin.desiredVersion
	c := id.conn
	h.changed()
	h.mu.Unlock()
	if c != nil && h.subscribed(c, desiredFilter) {
		body, _ := json.Marshal(p)
		_ = h.send(c, fmt.Sprintf("$iothub/twin/PATCH/properties/desired/?$version=%d", p["$version"]), body)
	}
}

// SendDesiredPatch publishes a desired-property notification with the
// given $version without changing the twin: a notification the hub
// delivers late, after a GET already returned a newer document, which the
// device reconnection flow says to ignore. The identity must be connected
// and subscribed to desired patches; otherwise nothing is sent.
func (h *Hub) SendDesiredPatch(deviceID, moduleID string, version int, patch map[string]any) {
	h.t.Helper()
	p, err := cloneJSON(patch)
	if err != nil {
		h.t.Errorf("hubsim: SendDesiredPatch: %v", err)
		return
	}
	p["$version"] = version
	h.mu.Lock()
	var c *conn
	if id := h.ids[identityKey{deviceID, moduleID}.clientID()]; id != nil {
		c = id.conn
	}
	h.mu.Unlock()
	if c != nil && h.subscribed(c, desiredFilter) {
		body, _ := json.Marshal(p)
		_ = h.send(c, fmt.Sprintf("$iothub/twin/PATCH/properties/desired/?$version=%d", version), body)
	}
}

// DesiredVersion returns the $version of the identity's desired
// properties; 0 for an unknown identity.
func (h *Hub) DesiredVersion(deviceID, moduleID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id := h.ids[identityKey{deviceID, moduleID}.clientID()]; id != nil {
		return id.twin.desiredVersion
	}
	return 0
}

// Reported returns a copy of the identity's reported properties, without
// "$version"; nil for an unknown identity.
func (h *Hub) Reported(deviceID, moduleID string) map[string]any {
	return h.twinCopy(deviceID, moduleID, func(t *twin) map[string]any { return t.reported })
}

// Desired returns a copy of the identity's desired properties, without
// "$version"; nil for an unknown identity.
func (h *Hub) Desired(deviceID, moduleID string) map[string]any {
	return h.twinCopy(deviceID, moduleID, func(t *twin) map[string]any { return t.desired })
}

func (h *Hub) twinCopy(deviceID, moduleID string, part func(*twin) map[string]any) map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.ids[identityKey{deviceID, moduleID}.clientID()]
	if id == nil {
		return nil
	}
	m, _ := cloneJSON(part(&id.twin))
	return m
}

func withVersion(m map[string]any, version int) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out["$version"] = version
	return out
}

// mergePatch applies a JSON merge patch: objects merge, null deletes,
// anything else replaces.
func mergePatch(doc, patch map[string]any) {
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(doc, k)
		case map[string]any:
			sub, ok := doc[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
				doc[k] = sub
			}
			mergePatch(sub, pv)
		default:
			doc[k] = v
		}
	}
}

// checkKeys enforces the hub's rules on names, values and nesting
// ("Tags and properties format" of the device twin documentation): names
// up to 1 KB without control characters, '.', '$' or space; strings up to
// 4 KB; integers within ±2^52; objects nested up to 10 levels.
func checkKeys(m map[string]any, depth int) error {
	if depth > maxTwinDepth {
		return fmt.Errorf("nested deeper than %d levels", maxTwinDepth)
	}
	for k, v := range m {
		if k == "" || len(k) > maxTwinKey || strings.ContainsFunc(k, badKeyRune) {
			return fmt.Errorf("invalid property name %q", k)
		}
		if err := checkValue(k, v, depth); err != nil {
			return err
		}
	}
	return nil
}

// Twin value limits.
const (
	maxTwinString = 4 * 1024
	maxTwinInt    = 4503599627370495 // and -4503599627370496
)

func checkValue(k string, v any, depth int) error {
	switch x := v.(type) {
	case map[string]any:
		return checkKeys(x, depth+1)
	case []any:
		for _, e := range x {
			if err := checkValue(k, e, depth); err != nil {
				return err
			}
		}
	case string:
		if len(x) > maxTwinString {
			return fmt.Errorf("property %q: string of %d bytes, limit %d", k, len(x), maxTwinString)
		}
	case float64:
		if x == math.Trunc(x) && (x > maxTwinInt || x < -maxTwinInt-1) {
			return fmt.Errorf("property %q: integer %v out of the twin's range", k, x)
		}
	}
	return nil
}

func badKeyRune(r rune) bool {
	return r == '.' || r == '$' || r == ' ' || r < 0x20 || (r >= 0x7f && r <= 0x9f)
}

// cloneJSON deep-copies a JSON-shaped map, as a test's own map must not be
// aliased by the hub's state.
func cloneJSON(m map[string]any) (map[string]any, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode twin properties: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode twin properties: %w", err)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

func errorBody(err error) []byte {
	b, _ := json.Marshal(map[string]string{"message": err.Error()})
	return b
}
