package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

func TestValidateCommand(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("[bridge]\nid = \"x\"\nfoo = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"valid example", []string{"validate", "-config", "../../configs/minimal.toml"}, 0, "config ok: bridge", ""},
		{"problems with lines", []string{"validate", "-config", bad}, 1, "", bad + ":3: bridge.foo: unknown key"},
		{"missing file", []string{"validate", "-config", "/nonexistent.toml"}, 1, "", "/nonexistent.toml"},
		{"no -config", []string{"validate"}, 2, "", "-config FILE is required"},
		{"help", []string{"validate", "-h"}, 0, "", "FILE:LINE: field.path"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"run help", []string{"run", "-h"}, 0, "", "SIGINT or SIGTERM"},
		{"demo help", []string{"demo", "-h"}, 0, "", "Needs no config file"},
		{"version", []string{"version"}, 0, "factorybridge dev", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			code := exitCode(err, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d (err %v)\nstderr: %s", code, tt.wantCode, err, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	if code := exitCode(flag.ErrHelp, &bytes.Buffer{}); code != 0 {
		t.Fatalf("-h exits %d", code)
	}
	if code := exitCode(errors.New("boom"), &bytes.Buffer{}); code != 1 {
		t.Fatalf("an error exits %d", code)
	}
}

// TestDemoPublishes runs the README's first command in-process: the
// embedded line, broker and bridge come up, readings are published, and
// Ctrl-C (context cancel) ends it cleanly.
func TestDemoPublishes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedWriter{w: &bytes.Buffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"demo", "-every", "300ms", "-speed", "20"}, out, out) }()
	published := regexp.MustCompile(`published [1-9]\d*`)
	testenv.Wait(t, 90*time.Second, "the demo to publish readings", func() bool {
		out.mu.Lock()
		defer out.mu.Unlock()
		return published.Match(out.w.Bytes())
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop within 30 s of Ctrl-C")
	}
}
