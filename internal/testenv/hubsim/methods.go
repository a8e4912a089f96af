package hubsim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors of Invoke, with the HTTP status the hub's service API would give.
var (
	ErrUnknownIdentity = errors.New("device or module not found")       // 404
	ErrNotOnline       = errors.New("device not online")                // 404: not connected or not subscribed to methods
	ErrTimeout         = errors.New("timed out waiting for a response") // 504
	ErrBadMethod       = errors.New("invalid method name")              // 400
	ErrBusy            = errors.New("too many pending method calls")    // 429
	ErrStopped         = errors.New("hub stopped")
	ErrBasicTier       = errors.New("direct methods are not available on a Basic-tier hub") // 405 (the service refuses; the stand-in's code)
)

// DefaultMethodTimeout is the hub's response timeout when Invoke is given 0.
const DefaultMethodTimeout = 30 * time.Second

// Method payload limit and the cap on calls in flight (each waits for a
// $rid the client may never answer).
const (
	MaxMethodPayload = 128 * 1024
	maxPendingCalls  = 256
)

// call is an Invoke waiting for its response.
type call struct {
	id   *identity
	done chan methodResult // buffered: the responder never blocks
}

type methodResult struct {
	status int
	body   []byte
}

// Invoke calls a direct method like the service API does: it publishes to
// $iothub/methods/POST/{method}/?$rid={rid} and waits up to timeout (0 means
// DefaultMethodTimeout) for $iothub/methods/res/{status}/?$rid={rid}. It
// returns the device's status and body, or an error from the list above with
// the status the hub would return (0 when ctx ended or the hub stopped).
func (h *Hub) Invoke(ctx context.Context, deviceID, moduleID, method string, payload []byte, timeout time.Duration) (status int, body []byte, err error) {
	if method == "" || strings.ContainsAny(method, "/+#") {
		return http.StatusBadRequest, nil, fmt.Errorf("%w: %q", ErrBadMethod, method)
	}
	if len(payload) > MaxMethodPayload {
		return http.StatusRequestEntityTooLarge, nil, fmt.Errorf("method payload of %d bytes, limit %d", len(payload), MaxMethodPayload)
	}
	if h.opts.Basic {
		return http.StatusMethodNotAllowed, nil, ErrBasicTier
	}
	if timeout <= 0 {
		timeout = DefaultMethodTimeout
	}
	rid, c, pending, err := h.startCall(identityKey{deviceID, moduleID})
	if err != nil {
		return statusOf(err), nil, err
	}
	defer h.endCall(rid)
	if err := h.send(c, "$iothub/methods/POST/"+method+"/?$rid="+rid, payload); err != nil {
		return http.StatusNotFound, nil, fmt.Errorf("%w: %v", ErrNotOnline, err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-pending.done:
		return r.status, r.body, nil
	case <-timer.C:
		return http.StatusGatewayTimeout, nil, fmt.Errorf("method %s after %v: %w", method, timeout, ErrTimeout)
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	case <-h.done:
		return 0, nil, ErrStopped
	}
}

func statusOf(err error) int {
	if errors.Is(err, ErrBusy) {
		return http.StatusTooManyRequests
	}
	return http.StatusNotFound
}

// startCall registers a pending call for a connected identity subscribed to
// methods.
func (h *Hub) startCall(k identityKey) (string, *conn, *call, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.ids[k.clientID()]
	switch {
	case id == nil:
		return "", nil, nil, fmt.Errorf("%w: %s", ErrUnknownIdentity, k.clientID())
	case id.conn == nil || !id.subs[methodsFilter]:
		return "", nil, nil, fmt.Errorf("%w: %s is not connected and subscribed to %s", ErrNotOnline, k.clientID(), methodsFilter)
	case len(h.calls) >= maxPendingCalls:
		return "", nil, nil, ErrBusy
	}
	h.rid++
	rid := strconv.FormatUint(h.rid, 10)
	pending := &call{id: id, done: make(chan methodResult, 1)}
	h.calls[rid] = pending
	return rid, id.conn, pending, nil
}

func (h *Hub) endCall(rid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.calls, rid)
}

// methodResponse takes $iothub/methods/res/{status}/?$rid={rid}; a response
// to an unknown or finished call is dropped, as the hub does.
func (h *Hub) methodResponse(c *conn, rest string, payload []byte) *violation {
	code, query, ok := strings.Cut(rest, "/?")
	status, err := strconv.Atoi(code)
	if !ok || err != nil {
		return violate(ReasonTopic, "method response topic %q wants {status}/?$rid=…", methodResPrefix+rest)
	}
	rid, v := requireRID(query)
	if v != nil {
		return v
	}
	if len(payload) > MaxMethodPayload {
		return violate(ReasonTooLarge, "method response of %d bytes, limit %d", len(payload), MaxMethodPayload)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if pending := h.calls[rid]; pending != nil && pending.id == c.id {
		delete(h.calls, rid)
		pending.done <- methodResult{status, payload}
	}
	return nil
}
