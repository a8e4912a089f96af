// Package testenv starts the real services integration tests talk to (the
// open62541 simulator, mosquitto) on free loopback ports, and stops them when
// the test ends. Tests that need a service it cannot provide are skipped with
// the reason unless FACTORYBRIDGE_REQUIRE_INTEGRATION=1 (set by .ci/run), in
// which case they fail.
package testenv

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RepoRoot returns the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Unavailable skips the test with reason, or fails it when integration tests
// are required (FACTORYBRIDGE_REQUIRE_INTEGRATION=1).
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("FACTORYBRIDGE_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("integration service unavailable: %s", reason)
	}
	t.Skipf("integration service unavailable: %s (run scripts/test.sh to provide it)", reason)
}
