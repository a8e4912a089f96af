package opcua

import (
	"crypto/rsa"
	"log/slog"
	"time"

	"factorybridge"
)

// Defaults for the zero fields of Options and Node.
const (
	DefaultKeepAlive     = 10 * time.Second
	DefaultWatchdogFloor = 10 * time.Second
	DefaultBackoffMin    = time.Second
	DefaultBackoffMax    = 30 * time.Second
	DefaultFlushTimeout  = 5 * time.Second
	// DefaultMaxItemsPerCall is the chunk size of CreateMonitoredItems when
	// the server does not publish MaxMonitoredItemsPerCall (or it is 0).
	DefaultMaxItemsPerCall = 1000
	// DefaultRequestTimeout bounds every service call, dialling included.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultPublishingInterval is the publishing interval of a node that
	// names none.
	DefaultPublishingInterval = time.Second
	// DefaultQueueSize is the monitored item queue of a node that names none.
	DefaultQueueSize = 10
	// DefaultTrigger is the data change trigger of a node that names none:
	// a change of status or value, not of the timestamp alone.
	DefaultTrigger = "status_value"
)

// WatchdogMultiplier is how many revised keep-alive periods a session may
// stay silent (no data, no keep-alive) before it is rebuilt; see
// Options.WatchdogFloor for the least limit.
const WatchdogMultiplier = 3

// Options are a Client's server settings, nodes, dependencies and tuning
// knobs; Endpoint and Sink are required.
type Options struct {
	// Name is the server's name in logs, errors and OnState.
	Name string
	// Endpoint is the server's opc.tcp:// URL. Required.
	Endpoint string
	// SecurityPolicy is None, Basic128Rsa15, Basic256, Basic256Sha256,
	// Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, or Auto (the strongest
	// the server offers, never None). Empty means None.
	SecurityPolicy string
	// SecurityMode is None, Sign, SignAndEncrypt, or Auto (never None).
	// Empty means None.
	SecurityMode string
	// Auth is the user identity: "anonymous", "username" or "certificate".
	// Empty means anonymous.
	Auth string
	// Username and Password log in with Auth "username".
	Username string
	Password factorybridge.Secret
	// UserCertificate and UserKey are the files (PEM or DER) of the X.509
	// user certificate and its RSA key that Auth "certificate" logs in with.
	// They are read at every connection attempt, so that a renewed
	// certificate is used without a restart. Both required with Auth
	// "certificate".
	UserCertificate string
	UserKey         string
	// CertificateFile and KeyFile are the client's application instance
	// certificate and key files, used for secured sessions when Certificate
	// is nil. Empty with a nil Certificate leaves the client without the
	// identity a secured session needs.
	CertificateFile string
	KeyFile         string
	// AllowPlaintextPassword lets Auth "username" send the password where
	// nothing encrypts it: over security mode None, or over Sign with a user
	// token policy of security None. False refuses to: a password goes only
	// over SignAndEncrypt or under a token policy that encrypts it.
	AllowPlaintextPassword bool
	// RequestTimeout bounds every service call and dial. Zero means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Nodes are the nodes to subscribe to or read, in the order of their
	// monitored items' client handles. None means a session without
	// subscriptions.
	Nodes []Node
	// Events are the event sources to subscribe to (events.go). None means
	// no event monitored items.
	Events []EventSource
	// Backfill bounds the filling of data gaps from the server's history
	// for the nodes with Node.Backfill (backfill.go).
	Backfill BackfillOptions

	// Sink receives every reading. Required.
	Sink factorybridge.Sink
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// VerifyServerCert, when set, is called with the DER certificate (chain)
	// of the endpoint chosen by GetEndpoints and the server's application URI
	// from that endpoint, before every secured session is created; an error
	// fails the connection attempt. It is not called with security policy
	// None, where no certificate is used. gopcua itself does not validate
	// server certificates at all. Whatever it says, the client then checks
	// that the CreateSession response, over the secure channel, carries the
	// same certificate and endpoints and that the certificate is for the
	// application URI the server announces there.
	VerifyServerCert func(der []byte, serverURI string) error
	// Certificate (DER), PrivateKey and ApplicationURI are the client's
	// application instance identity for secured sessions; ApplicationURI must
	// be the URI in the certificate. A nil Certificate means CertificateFile
	// and KeyFile.
	Certificate    []byte
	PrivateKey     *rsa.PrivateKey
	ApplicationURI string
	// KeepAlive is the requested keep-alive period of every subscription
	// (MaxKeepAliveCount = KeepAlive / publishing interval, at least 1).
	// Zero means DefaultKeepAlive.
	KeepAlive time.Duration
	// WatchdogFloor is the least time a session may stay silent (no data, no
	// successful probe) before it is rebuilt; the limit is
	// max(WatchdogMultiplier × revised keep-alive period, WatchdogFloor).
	// Zero means DefaultWatchdogFloor.
	WatchdogFloor time.Duration
	// BackoffMin and BackoffMax bound the delay between connection
	// attempts. Zero means DefaultBackoffMin and DefaultBackoffMax.
	BackoffMin, BackoffMax time.Duration
	// MaxItemsPerCall, when positive, caps the monitored items created per
	// call below the server's own limit. Zero means the server's limit.
	MaxItemsPerCall int
	// MaxArrayLen bounds array values; a longer array becomes a Null reading
	// with status BadEncodingLimitsExceeded. Zero means DefaultMaxArrayLen.
	MaxArrayLen int
	// FlushTimeout bounds how long, after Run's context ends, readings
	// already received may still block in Sink.Append. Zero means
	// DefaultFlushTimeout.
	FlushTimeout time.Duration
	// Now is the clock of Stats and log timestamps; nil means time.Now.
	Now func() time.Time
	// Clock says which timestamps place readings in time and how the
	// server's clock is checked and corrected (clock.go). The zero value is
	// the default.
	Clock ClockOptions
	// OnState, when set, is told when the server's data starts to flow
	// (connected: a session with its subscriptions is up) and when it stops
	// (the session failed or no connection could be made), at the time it
	// happened. The readings of a lost session have been handed to the Sink
	// before it is told. With backfill nodes, "connected" is told once the
	// session's gaps are filled (or given up), after OnGapFilled, with the
	// time the session came up. It runs on Run's goroutine and must not
	// block.
	OnState func(server string, connected bool, at time.Time)
	// OnGapFilled, when set, is told the names of the backfill nodes whose
	// gap before the current session is known completely: filled from the
	// server's history, or the value did not change; it is not called
	// when there are none. The backfilled readings have been handed to the
	// Sink before. It runs on Run's goroutine and must not block.
	OnGapFilled func(server string, nodes []string)
	// Watermarks, when set, keeps the newest committed source time of each
	// backfill node durably (the buffer), so that the gap before the first
	// session after a restart is filled too. Nil fills only the gaps of
	// reconnects within one run.
	Watermarks factorybridge.Watermarks
}

// Node is one OPC UA variable to subscribe to, with what its readings say
// about where it is in the plant.
type Node struct {
	// Name is the reading's name (its full path in the plant).
	Name string
	// Server, Line and Station are copied into every reading.
	Server, Line, Station string
	// ID is the node id: ns=<idx>;s=|i=|g=|b=…, or nsu=<namespace URI>;…
	// resolved against the server's NamespaceArray at every connect.
	// Exactly one of ID and Path is required.
	ID string
	// Path is the node's browse path from the Root folder (BrowsePath
	// describes the syntax), resolved with TranslateBrowsePathsToNodeIds at
	// every connect; readings carry it as their NodeID. A path that does not
	// resolve gives one Bad reading (BadNoMatch, or the server's status) per
	// connect and a log line; the other nodes are not affected.
	Path string
	// PublishingInterval picks the node's subscription (one per distinct
	// interval). Zero means DefaultPublishingInterval.
	PublishingInterval time.Duration
	// SamplingInterval is the requested sampling interval. Zero means as
	// fast as the server can, not a default.
	SamplingInterval time.Duration
	// QueueSize is the monitored item's queue (oldest discarded). Zero
	// means DefaultQueueSize.
	QueueSize uint32
	// Trigger is "status", "status_value" or "status_value_timestamp".
	// Empty means DefaultTrigger.
	Trigger string
	// Deadband is "", "none", "absolute" or "percent"; DeadbandValue is its
	// size. Empty means none.
	Deadband      string
	DeadbandValue float64
	// Mode is ModeSubscribe (a monitored item) or ModeRead (Read requests
	// every ReadInterval, readmode.go). Empty means ModeSubscribe.
	Mode string
	// ReadInterval is the cycle of a node in ModeRead. Zero means
	// DefaultReadInterval.
	ReadInterval time.Duration
	// ReadReport, in ModeRead, is ReportCycle (a reading per cycle) or
	// ReportChange (a reading only when the value changed by Trigger and
	// Deadband; an absolute deadband only). Empty means ReportCycle.
	ReadReport string
	// Heartbeat, when positive, sends the node's last value again, marked
	// as a heartbeat, when the node has sent nothing for this long and the
	// session is up (heartbeat.go). Zero means no heartbeats.
	Heartbeat time.Duration
	// SkipFirst drops the first value the node reports after the bridge
	// started (acquire.go says what happens after a reconnect).
	SkipFirst bool
	// Backfill fills the node's data gaps (reconnects, restarts) from the
	// server's history (backfill.go). It excludes SkipFirst.
	Backfill bool
}

// withDefaults returns n with its zero fields that have a default filled.
func (n Node) withDefaults() Node {
	if n.PublishingInterval <= 0 {
		n.PublishingInterval = DefaultPublishingInterval
	}
	if n.QueueSize == 0 {
		n.QueueSize = DefaultQueueSize
	}
	if n.Trigger == "" {
		n.Trigger = DefaultTrigger
	}
	return n.acquisitionDefaults()
}

func withDefaults(o Options) Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RequestTimeout, DefaultRequestTimeout)
	def(&o.KeepAlive, DefaultKeepAlive)
	def(&o.WatchdogFloor, DefaultWatchdogFloor)
	def(&o.BackoffMin, DefaultBackoffMin)
	def(&o.BackoffMax, max(DefaultBackoffMax, o.BackoffMin))
	def(&o.FlushTimeout, DefaultFlushTimeout)
	if o.MaxArrayLen <= 0 {
		o.MaxArrayLen = DefaultMaxArrayLen
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Clock = o.Clock.withDefaults()
	return o
}

// The valid values of the enumerated settings, in the order messages list
// them. config validates a file against these, so a value is valid in one
// place only; TestEnumeratedSettings checks them against what New accepts.
var (
	SecurityPolicies = []string{"None", "Basic128Rsa15", "Basic256", "Basic256Sha256",
		"Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss", Auto}
	SecurityModes = []string{"None", "Sign", "SignAndEncrypt", Auto}
	AuthMethods   = []string{"anonymous", "username", "certificate"}
	Triggers      = []string{"status", "status_value", "status_value_timestamp"}
	Deadbands     = []string{"none", "absolute", "percent"}
	Modes         = []string{ModeSubscribe, ModeRead}
	ReadReports   = []string{ReportCycle, ReportChange}
)
