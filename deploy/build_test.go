package deploy

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"factorybridge/internal/testenv"
)

// The stamp the release build test gives the binary.
const (
	testVersion = "v0.0.0-deploytest"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
)

var release struct {
	once sync.Once
	dir  string
	bin  string
	out  []byte
	err  error
}

// releaseBinary builds the binary as the Dockerfile does (scripts/release.sh)
// once per test binary.
func releaseBinary(t *testing.T) string {
	t.Helper()
	release.once.Do(func() {
		release.dir, release.err = os.MkdirTemp("", "factorybridge-release-")
		if release.err != nil {
			return
		}
		release.bin = filepath.Join(release.dir, "factorybridge")
		cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(), "scripts", "release.sh"))
		cmd.Env = append(os.Environ(), "VERSION="+testVersion, "COMMIT="+testCommit, "OUT="+release.bin)
		release.out, release.err = cmd.CombinedOutput()
	})
	if release.err != nil {
		t.Fatalf("scripts/release.sh: %v\n%s", release.err, release.out)
	}
	return release.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if release.dir != "" {
		os.RemoveAll(release.dir)
	}
	os.Exit(code)
}

// TestReleaseBuildIsStatic: the image's binary has no ELF interpreter and
// needs no shared library, so it runs on distroless/static (no libc), and
// it tells its stamped version and commit, Go's and gopcua's versions.
func TestReleaseBuildIsStatic(t *testing.T) {
	bin := releaseBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the release binary has a PT_INTERP program header: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the release binary needs shared libraries %v (%v)", libs, err)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	for _, want := range []string{"factorybridge " + testVersion, "commit  " + testCommit, "go      go1.", "gopcua  v0.9.1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}
