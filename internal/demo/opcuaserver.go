package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uasc"
)

const (
	// simTick is how often the simulation advances. Changes carry their
	// exact simulated instant as source timestamp, so the tick only bounds
	// how late a change becomes visible.
	simTick = 100 * time.Millisecond
	// simStopWait bounds how long Close waits for the simulation loop: it
	// can be stuck inside gopcua's ChangeNotification, which blocks on a
	// full per-subscription channel while holding a server-wide lock.
	simStopWait = 2 * time.Second
	// Publishing intervals the server accepts; gopcua takes any requested
	// interval as is and panics (killing the process) on one under 1 ms.
	minPublishingMs = 10.0
	maxPublishingMs = float64(time.Hour / time.Millisecond)
	// portAttempts bounds retries when a port picked for "host:0" is taken
	// before gopcua binds it (gopcua cannot report the port it bound).
	portAttempts = 5
)

// OPCUAServer is the demo's embedded OPC UA server: gopcua's server package
// serving a Line in NamespaceURI, security None and anonymous only.
type OPCUAServer struct {
	// Endpoint is the opc.tcp:// URL clients connect to.
	Endpoint string
	// NamespaceIndex is the index of NamespaceURI on this server.
	NamespaceIndex uint16

	srv       *server.Server
	store     *valueStore
	glog      *gopcuaLogger
	logger    *slog.Logger
	stopSim   context.CancelFunc
	simDone   chan struct{}
	stopSrv   context.CancelFunc
	closeOnce sync.Once
	closeErr  error
}

// StartOPCUAServer starts an OPC UA server on addr ("127.0.0.1:0" picks a
// free port; only loopback addresses are accepted, as the server has no
// security) serving line's variables, and a goroutine that advances line
// in real time and notifies subscribers. The server takes ownership of
// line. The simulation runs until ctx ends or Close; the server keeps
// serving the last values until Close, so a bridge shutting down on the
// same ctx does not see its server vanish first. A nil logger discards.
func StartOPCUAServer(ctx context.Context, addr string, line *Line, logger *slog.Logger) (*OPCUAServer, error) {
	logger = orDiscard(logger)
	host, port, err := loopbackHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("start OPC UA server: %w", err)
	}
	line.Advance(time.Now()) // fixes simulated time zero before the snapshot
	for attempt := 1; ; attempt++ {
		p := port
		if p == 0 {
			if p, err = freePort(host); err != nil {
				return nil, fmt.Errorf("start OPC UA server on %s: %w", addr, err)
			}
		}
		s, err := startOPCUA(ctx, host, p, line, logger)
		if err == nil {
			simCtx, stopSim := context.WithCancel(ctx)
			s.stopSim = stopSim
			go s.simulate(simCtx, line)
			return s, nil
		}
		if port != 0 || attempt == portAttempts || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("start OPC UA server on %s: %w", addr, err)
		}
	}
}

func startOPCUA(ctx context.Context, host string, port int, line *Line, logger *slog.Logger) (*OPCUAServer, error) {
	glog := &gopcuaLogger{l: logger}
	glog.muted.Store(true) // see gopcuaLogger
	srv := server.New(
		server.EnableSecurity("None", ua.MessageSecurityModeNone),
		server.EnableAuthMode(ua.UserTokenTypeAnonymous),
		server.EndPoint(host, port),
		server.SetLogger(glog),
		server.ServerName("factorybridge demo line"),
		server.ProductName("factorybridge demo"),
	)
	glog.muted.Store(false)
	guardPublishingInterval(srv)
	store := newValueStore()
	ns := buildAddressSpace(srv, line.Snapshot(), store)
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	if err := srv.Start(srvCtx); err != nil {
		stopSrv()
		return nil, err
	}
	s := &OPCUAServer{
		Endpoint:       srv.URLs()[0],
		NamespaceIndex: ns.ID(),
		srv:            srv,
		store:          store,
		glog:           glog,
		logger:         logger,
		simDone:        make(chan struct{}),
		stopSrv:        stopSrv,
	}
	logger.Info("demo OPC UA server listening", "endpoint", s.Endpoint, "namespace", NamespaceURI)
	return s, nil
}

// Close stops the simulation and the server. Close the bridge's client
// first: gopcua's server does not drop connected clients but waits up to
// 10 s for them to leave (and then leaves their goroutines behind). It is
// safe to call Close more than once.
func (s *OPCUAServer) Close() error {
	s.closeOnce.Do(func() {
		s.stopSim()
		select {
		case <-s.simDone:
		case <-time.After(simStopWait):
			s.logger.Warn("demo simulation did not stop: blocked in gopcua's change notification")
		}
		s.glog.muted.Store(true)
		s.closeErr = s.srv.Close()
		// Only now: gopcua's connection goroutines hand their last messages
		// to the loop this context ends, and block forever without it.
		s.stopSrv()
	})
	return s.closeErr
}

func (s *OPCUAServer) simulate(ctx context.Context, line *Line) {
	defer close(s.simDone)
	tick := time.NewTicker(simTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s.apply(line.Advance(now))
		}
	}
}

// apply stores the changes and notifies subscribers once per changed node.
// gopcua's notification reads the node's current value and a subscription
// keeps only the latest value per item, so more would add nothing.
func (s *OPCUAServer) apply(changes []Change) {
	var changed []string
	seen := map[string]bool{}
	for _, c := range changes {
		key := NodeID(c.Station, c.Variable)
		s.store.set(key, c.Value, c.Time)
		if !seen[key] {
			seen[key] = true
			changed = append(changed, key)
		}
	}
	for _, key := range changed {
		s.srv.ChangeNotification(ua.NewStringNodeID(s.NamespaceIndex, key))
	}
}

// guardPublishingInterval revises requested publishing intervals into
// [minPublishingMs, maxPublishingMs] before gopcua sees them: its
// subscription loop calls time.NewTicker with the interval truncated to
// whole milliseconds, which panics on zero. A handler registered before
// Start takes the place of gopcua's own.
func guardPublishingInterval(srv *server.Server) {
	srv.RegisterHandler(id.CreateSubscriptionRequest_Encoding_DefaultBinary,
		func(sc *uasc.SecureChannel, r ua.Request, reqID uint32) (ua.Response, error) {
			if req, ok := r.(*ua.CreateSubscriptionRequest); ok {
				req.RequestedPublishingInterval = clampPublishing(req.RequestedPublishingInterval)
			}
			return srv.SubscriptionService.CreateSubscription(sc, r, reqID)
		})
}

func clampPublishing(ms float64) float64 {
	switch {
	case !(ms >= minPublishingMs): // also NaN
		return minPublishingMs
	case ms > maxPublishingMs:
		return maxPublishingMs
	}
	return ms
}

// loopbackHostPort splits addr and insists on a loopback IP: the demo
// services have no authentication and must not be reachable from outside.
// An IPv6 host comes back in brackets, ready for a URL.
func loopbackHostPort(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", 0, fmt.Errorf("listen address %q: want a loopback IP such as 127.0.0.1", addr)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("listen address %q: bad port", addr)
	}
	if ip.To4() == nil {
		host = "[" + host + "]"
	}
	return host, port, nil
}

// freePort returns a port on host that was free a moment ago.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(trimBrackets(host), "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func trimBrackets(host string) string {
	if len(host) > 1 && host[0] == '[' {
		return host[1 : len(host)-1]
	}
	return host
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
