package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestVersionNamesItsParts(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"factorybridge dev\n", "commit  unknown", "go      go1.", "gopcua  v0.9.1"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("version output lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestHealthCommand(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || !healthy.Load() {
			http.Error(w, "not ok", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	cfg := filepath.Join(t.TempDir(), "c.toml")
	text := "bridge.id = \"h\"\nbridge.data_dir = \"/tmp/x\"\nmqtt.broker = \"tcp://127.0.0.1:1883\"\nhttp.listen = \"0.0.0.0:" + port + "\"\n" +
		"[[servers]]\nname = \"plc\"\nendpoint = \"opc.tcp://127.0.0.1:4840\"\n[[lines]]\nname = \"l\"\n[[lines.stations]]\nname = \"s\"\nnodes = [{ name = \"n\", id = \"ns=1;s=n\" }]\n"
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"health", "-addr", addr}, {"health", "-config", cfg}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), ": ok") {
			t.Errorf("%v: err %v, stdout %q", args, err, stdout.String())
		}
	}
	healthy.Store(false)
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"health", "-addr", addr}, &bytes.Buffer{}, &stderr)
	if code := exitCode(err, &stderr); code != 1 || !strings.Contains(stderr.String(), "503") {
		t.Errorf("unhealthy: exit %d, stderr %q", code, stderr.String())
	}
	err = run(context.Background(), []string{"health", "-addr", "127.0.0.1:1"}, &bytes.Buffer{}, &stderr)
	if code := exitCode(err, &stderr); code != 1 {
		t.Errorf("nothing listening: exit %d", code)
	}
}
