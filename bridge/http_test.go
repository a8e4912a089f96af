package bridge

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
)

// newIdleBridge builds a bridge whose servers and broker are never
// reached (it is not run): what the endpoint shows of a bridge that is not
// connected yet.
func newIdleBridge(t *testing.T) *Bridge {
	t.Helper()
	cfg := parse(t, strings.NewReplacer(
		`bridge.data_dir = "/tmp/fb"`, `bridge.data_dir = "`+t.TempDir()+`"`,
	).Replace(baseConfig))
	b, err := New(cfg, Options{Version: "v9.9.9", Commit: "abc123"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.buf.Close() })
	return b
}

func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestHandler(t *testing.T) {
	b := newIdleBridge(t)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	tests := []struct {
		path     string
		code     int
		contains []string
	}{
		{"/healthz", 200, []string{"ok"}},
		{"/readyz", 503, []string{"publisher: not connected", "server plc: connecting"}},
		{"/", 200, []string{"<title>factorybridge</title>", `src="app.js"`}},
		{"/app.js", 200, []string{"api/status"}},
		{"/style.css", 200, []string{"--ok"}},
		{"/api/status", 200, []string{`"bridge":"b1"`, `"version":"v9.9.9"`, `"name":"plc"`, `"state":"connecting"`}},
		{"/api/charts", 200, []string{`"ackRate":[]`}},
		{"/metrics", 200, []string{
			`factorybridge_build_info{commit="abc123",goversion="go`,
			`factorybridge_readings_received_total{line="line1",server="plc"} 0`,
			`factorybridge_readings_acked_total{line="line1",server="plc"} 0`,
			`factorybridge_opcua_state{server="plc",state="connecting"} 1`,
			`factorybridge_opcua_monitored_items{server="plc",status="failed"} 0`,
			`factorybridge_buffer_readings 0`, `factorybridge_buffer_max_bytes 1.073741824e+09`,
			`factorybridge_publish_connected 0`, `factorybridge_publish_token_renewals_total 0`,
			`factorybridge_publish_ack_latency_seconds_bucket{le="0.005"} 0`,
			`go_goroutines`, `process_resident_memory_bytes`,
		}},
	}
	for _, tt := range tests {
		code, body := get(t, srv, tt.path)
		if code != tt.code {
			t.Errorf("GET %s = %d, want %d\n%s", tt.path, code, tt.code, body)
		}
		for _, want := range tt.contains {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s does not contain %q\n%s", tt.path, want, body)
			}
		}
	}
}

// TestStatusIsGetStatus: /api/status and IoT Hub's GetStatus are one Report.
func TestStatusIsGetStatus(t *testing.T) {
	b := newIdleBridge(t)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	_, body := get(t, srv, "/api/status")
	var api, hub map[string]any
	if err := json.Unmarshal([]byte(body), &api); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal((&hubReporter{b: b}).Status())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &hub); err != nil {
		t.Fatal(err)
	}
	delete(api, "at")
	delete(hub, "at")
	delete(api, "uptimeS")
	delete(hub, "uptimeS")
	if a, h := mustJSON(t, api), mustJSON(t, hub); a != h {
		t.Errorf("/api/status and GetStatus differ:\n%s\n%s", a, h)
	}
}

func mustJSON(t *testing.T, v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDrain: the drain estimate from samples of a buffer draining a
// backlog, of one growing, and of one without a backlog.
func TestDrain(t *testing.T) {
	h := newHistory(time.Second)
	t0 := time.Now()
	old := fb.BufferStats{Committed: 10_000, Acked: 0, Depth: 10_000, OldestAge: time.Minute}
	h.add(t0, old, nil)
	cur := fb.BufferStats{Committed: 11_000, Acked: 5_000, Depth: 6_000, OldestAge: time.Minute}
	h.add(t0.Add(10*time.Second), cur, nil)
	d := h.drain(cur)
	if !d.Backlog || d.Rate != 500 || d.Net != 400 || d.Remaining != 6000 || d.ETA != 15*time.Second {
		t.Errorf("draining: %+v, want backlog, 500/s, net 400/s, 6000 left, 15s", d)
	}
	grow := fb.BufferStats{Committed: 21_000, Acked: 6_000, Depth: 15_000, OldestAge: time.Minute}
	h.add(t0.Add(20*time.Second), grow, nil)
	if d := h.drain(grow); d.ETA != 0 || d.Net >= 0 || d.Stalled {
		t.Errorf("growing: %+v, want no ETA and a negative net rate", d)
	}
	st := Status{Buffer: grow, Drain: h.drain(grow)}
	if got := st.Attrs(); got[len(got)-1] != "growing" {
		t.Errorf("status line of a growing backlog ends %v, want eta growing", got[len(got)-6:])
	}
	stuck := fb.BufferStats{Committed: 22_000, Acked: 6_000, Depth: 16_000, OldestAge: time.Minute}
	h.add(t0.Add(30*time.Second), stuck, nil)
	if d := h.drain(stuck); !d.Stalled || d.ETA != 0 {
		t.Errorf("nothing acknowledged for 10s: %+v, want stalled", d)
	}
	st = Status{Buffer: stuck, Drain: h.drain(stuck)}
	if got := st.Attrs(); got[len(got)-1] != "stalled" {
		t.Errorf("status line of a stalled backlog ends %v, want eta stalled", got[len(got)-6:])
	}
	calm := fb.BufferStats{Committed: 13_000, Acked: 12_900, Depth: 100, OldestAge: 100 * time.Millisecond}
	if d := h.drain(calm); d.Backlog || d.ETA != 0 {
		t.Errorf("no backlog: %+v", d)
	}
}
