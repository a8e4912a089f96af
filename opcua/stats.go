package opcua

import (
	"sync"
	"time"
)

// State is the client's connection state as the bridge sees it.
type State int

// Connection states.
const (
	// StateConnecting: Run started and no session was established yet, and
	// no attempt failed yet.
	StateConnecting State = iota
	// StateConnected: a session is up and its subscriptions are created.
	StateConnected
	// StateDown: the last session or connection attempt failed; Run is
	// retrying with back-off.
	StateDown
)

var stateNames = [...]string{"connecting", "connected", "down"}

// String returns "connecting", "connected" or "down".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Stats describes the client at one moment. Zero times mean "never".
type Stats struct {
	State State
	// ItemsOK and ItemsFailed count the monitored items of the current
	// session (zero while connecting) that deliver values and that do not:
	// rejected by the server, namespace URI unknown, or accepted but
	// reporting a status such as BadNotReadable in their values.
	ItemsOK     int
	ItemsFailed int
	// Reconnects counts sessions established after the first one.
	Reconnects uint64
	// Notifications counts DataChangeNotifications received, Readings the
	// readings handed to the sink.
	Notifications uint64
	Readings      uint64
	// Heartbeats, Backfilled and Events count the heartbeats sent, the
	// values read from history and delivered, and the events received
	// (all also in Readings).
	Heartbeats, Backfilled, Events uint64
	// Reads counts the Read requests of cyclic reads that succeeded.
	Reads uint64
	// QueueOverflows counts values the server flagged with the Overflow
	// info bit: its queue for the node was full and it discarded values
	// before this one (overflow.go). The discarded values are lost.
	QueueOverflows uint64
	// Updates counts the node updates applied on a running session
	// (Update; one applied between sessions is not counted).
	Updates uint64
	// LastData is when the last DataChangeNotification arrived;
	// LastKeepAlive when the last liveness probe succeeded (gopcua does not
	// surface the server's keep-alive messages, see Client).
	LastData      time.Time
	LastKeepAlive time.Time
	// Gaps counts the data gaps closed after a reconnect; LastGapStart is the
	// last data before the outage, LastGapEnd the first data after it.
	Gaps         uint64
	LastGapStart time.Time
	LastGapEnd   time.Time
	// Clock is the server's clock as last measured.
	Clock ClockStats
}

// statsRecorder guards Stats shared by Run's goroutines and Stats callers.
type statsRecorder struct {
	mu sync.Mutex
	s  Stats
}

func (r *statsRecorder) get() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.s
}

func (r *statsRecorder) update(f func(*Stats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.s)
}
