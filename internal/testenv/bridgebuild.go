package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bridgeBuildTimeout bounds building the bridge binary.
const bridgeBuildTimeout = 5 * time.Minute

var bridgeBuild struct {
	once sync.Once
	bin  string
	err  error
}

// BridgeBinary builds ./cmd/factorybridge once per test binary into a
// temporary directory of its own and returns its path. When the test binary runs with
// the race detector, so does the bridge (FACTORYBRIDGE_BRIDGE_RACE=0 or 1
// overrides).
func BridgeBinary(t testing.TB) string {
	t.Helper()
	bridgeBuild.once.Do(func() { bridgeBuild.bin, bridgeBuild.err = buildBridge() })
	if bridgeBuild.err != nil {
		t.Fatalf("build factorybridge: %v", bridgeBuild.err)
	}
	return bridgeBuild.bin
}

// bridgeBinDir is the prefix of the per-process directories the bridge is
// built into; a directory whose process has ended is removed by the next build.
const bridgeBinDir = "factorybridge-test-bin-"

func buildBridge() (string, error) {
	pruneBridgeBins()
	dir := filepath.Join(os.TempDir(), bridgeBinDir+strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "factorybridge")
	args := []string{"build", "-o", bin}
	if bridgeRace() {
		args = append(args, "-race")
	}
	ctx, cancel := context.WithTimeout(context.Background(), bridgeBuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/factorybridge")...)
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	return bin, nil
}

// pruneBridgeBins removes the binaries of test processes that have ended.
func pruneBridgeBins() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), bridgeBinDir+"*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), bridgeBinDir))
		if err != nil || syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(d)
		}
	}
}

// bridgeRace reports whether to build the bridge with -race.
func bridgeRace() bool {
	if v := os.Getenv("FACTORYBRIDGE_BRIDGE_RACE"); v != "" {
		return v == "1"
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
