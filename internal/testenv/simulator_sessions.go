//go:build linux

package testenv

import (
	"os"
	"strings"
	"testing"
)

// SessionCounts is what the simulator saw of its clients' connections, from
// the server side: counted in its own log, so that a test can prove a
// client kept its session where the client's own word would prove nothing.
// The counts cover every run of the Simulator (the log is kept across Stop
// and Start).
type SessionCounts struct {
	// Channels is the SecureChannels opened. A renewal of a channel's
	// token is not an opening; a TCP connection that never sent
	// OpenSecureChannel (a port probe) is not counted either.
	Channels int
	// Created is the sessions created (CreateSession).
	Created int
	// Activated is the successful ActivateSession calls: once after each
	// CreateSession, and once more each time a client moves its session to
	// a new channel, as a reconnect that keeps its session does.
	Activated int
	// Closed is the sessions a client closed (CloseSession).
	Closed int
}

// The messages open62541 1.4 logs at level info for each event, after the
// prefixes that name the connection, channel and session
// (`TCP 5	| SC 2	| Session "gopcua-…"	| Session created`).
const (
	logChannelOpened   = "| SecureChannel opened with SecurityPolicy "
	logSessionCreated  = "| Session created"
	logSessionActive   = "| ActivateSession: Session activated"
	logSessionClosing  = "| Closing the Session"
	simLogLevelSession = "info"
)

// Sessions counts the SecureChannels and sessions the simulator has opened
// so far. The simulator must run with SimOptions.LogSessions, or the test
// fails: without it the log holds none of the lines counted, and zero
// would pass for "never reconnected".
func (s *Simulator) Sessions(t testing.TB) SessionCounts {
	t.Helper()
	s.mu.Lock()
	logged := s.sessions
	s.mu.Unlock()
	if !logged {
		t.Fatalf("simulator sessions: start it with SimOptions.LogSessions (log level %s)", simLogLevelSession)
	}
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		t.Fatalf("simulator sessions: %v", err)
	}
	return countSessions(string(data))
}

// countSessions counts the session lines of a simulator log.
func countSessions(log string) SessionCounts {
	var c SessionCounts
	for line := range strings.Lines(log) {
		switch {
		case strings.Contains(line, logChannelOpened):
			c.Channels++
		case strings.HasSuffix(strings.TrimRight(line, "\n"), logSessionCreated):
			c.Created++
		case strings.Contains(line, logSessionActive):
			c.Activated++
		case strings.Contains(line, logSessionClosing):
			c.Closed++
		}
	}
	return c
}
