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

// TestDemoPublishes runs the README's first command: the embedded line,
// broker and bridge come up, readings are published, and Ctrl-C (SIGINT)
// ends it cleanly within testenv.BridgeStopTimeout.
func TestDemoPublishes(t *testing.T) {
	br := testenv.StartBridgeArgs(t, "demo", "-every", "300ms", "-speed", "20")
	published := regexp.MustCompile(`published [1-9]\d*`)
	br.WaitLogFunc(t, published.MatchString, 90*time.Second, "the demo to publish readings")
	if code := br.Interrupt(); code != 0 {
		t.Fatalf("demo exited with %d after Ctrl-C\n%s", code, br.LogTail())
	}
}
