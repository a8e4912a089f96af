package bridge

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	"factorybridge/opcua"
)

// web is the status page: HTML, CSS and a small script, no external asset
// (plants are often offline).
//
//go:embed web
var web embed.FS

// readyBufferFull: /readyz fails while the buffer holds more than this
// share of its cap: it is about to drop readings.
const readyBufferFull = 0.9

// serveHTTP serves the status page, /metrics, /healthz, /readyz and the
// JSON API on addr until ctx ends, and returns once the server stopped.
func (b *Bridge) serveHTTP(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for the status page on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second}
	b.log.Info("status page, metrics and health listening", "addr", "http://"+l.Addr().String()+"/")
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve the status page: %w", err)
	}
	return nil
}

// Handler serves the bridge's HTTP endpoint:
//
//	/             the status page
//	/metrics      Prometheus metrics
//	/healthz      liveness: 200 while the bridge runs
//	/readyz       readiness: 200 when data flows end to end (ready)
//	/api/status   the status (Report), as IoT Hub's GetStatus answers it
//	/api/charts   the recent history the page draws (Charts)
func (b *Bridge) Handler() http.Handler {
	mux := http.NewServeMux()
	page, _ := fs.Sub(web, "web")
	mux.Handle("GET /", http.FileServerFS(page))
	mux.Handle("GET /metrics", b.metrics.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", b.serveReady)
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, b.Report()) })
	mux.HandleFunc("GET /api/charts", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, b.hist.charts(b.scopes())) })
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// serveReady answers 200 "ready", or 503 with one line per unmet rule.
func (b *Bridge) serveReady(w http.ResponseWriter, _ *http.Request) {
	problems := b.notReady()
	if len(problems) == 0 {
		fmt.Fprintln(w, "ready")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintln(w, strings.Join(problems, "\n"))
}

// notReady returns why the bridge is not ready: the publisher is not
// connected, an OPC UA server has no session, or the buffer is nearly full.
// Readiness is for alerting and load balancers, not for restarts: a bridge
// that is not ready still buffers what it can (liveness is /healthz).
func (b *Bridge) notReady() []string {
	var out []string
	if !b.pub.Stats().Connected {
		out = append(out, "publisher: not connected")
	}
	for _, s := range b.servers() {
		if st := s.client.Stats().State; st != opcua.StateConnected {
			out = append(out, fmt.Sprintf("server %s: %s", s.name, st))
		}
	}
	st := b.buf.Stats()
	if max := b.config().Buffer.MaxBytes; max > 0 && float64(st.Bytes) > readyBufferFull*float64(max) {
		out = append(out, fmt.Sprintf("buffer: %d of %d bytes used; the oldest readings are about to be dropped", st.Bytes, max))
	}
	return out
}

// scopes are the lines and stations with OEE, each line before its stations.
func (b *Bridge) scopes() [][2]string {
	if b.oee == nil {
		return nil
	}
	var out [][2]string
	cfg := b.config()
	for _, line := range b.oee.Lines() {
		out = append(out, [2]string{line, ""})
		for _, l := range cfg.Lines {
			if l.Name != line {
				continue
			}
			for _, st := range l.Stations {
				if st.OEE != nil {
					out = append(out, [2]string{line, st.Name})
				}
			}
		}
	}
	return out
}
