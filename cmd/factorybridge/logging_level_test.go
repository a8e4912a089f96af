package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRuntimeLogLevelKeepsWarnings: the run-time level (the IoT Hub twin's
// desired logLevel) may go down to debug and up to warn, never above:
// security warnings stay visible whatever it is set to.
func TestRuntimeLogLevelKeepsWarnings(t *testing.T) {
	var lf logFlags
	lf.level, lf.format = "info", "text"
	var out bytes.Buffer
	log, err := lf.logger(&out)
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []string{"error", "ERROR", "error+4"} {
		if err := lf.setLevel(level); err == nil || !strings.Contains(err.Error(), "security warnings") {
			t.Errorf("setLevel(%q) = %v, want a refusal naming the security warnings", level, err)
		}
	}
	for _, level := range []string{"debug", "info", "warn"} {
		if err := lf.setLevel(level); err != nil {
			t.Errorf("setLevel(%q): %v", level, err)
		}
	}
	log.Warn("server certificate refused: not in the trust list")
	log.Info("status")
	if got := out.String(); !strings.Contains(got, "server certificate refused") || strings.Contains(got, "status") {
		t.Errorf("at level warn the log holds:\n%s\nwant the warning and not the info line", got)
	}
}
