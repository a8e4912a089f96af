package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"factorybridge/internal/testenv"
)

// unitSettings reads a unit file into section → key → values.
func unitSettings(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	var section string
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			out[section] = map[string][]string{}
		default:
			k, v, _ := strings.Cut(line, "=")
			out[section][k] = append(out[section][k], v)
		}
	}
	return out
}

// TestSystemdUnit: the unit runs the bridge as its own user with its state
// directory, hardened, restarted on failure, and systemd-analyze verify
// accepts it.
func TestSystemdUnit(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "deploy", "systemd")
	unit := filepath.Join(dir, "factorybridge.service")
	svc := unitSettings(t, unit)["Service"]
	want := map[string]string{
		"User": "factorybridge", "Group": "factorybridge", "StateDirectory": "factorybridge",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
		"Restart": "on-failure", "CapabilityBoundingSet": "", "ExecReload": "/bin/kill -HUP $MAINPID",
	}
	for k, v := range want {
		if got := svc[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	if exec := strings.Join(svc["ExecStart"], ""); !strings.Contains(exec, "/usr/local/bin/factorybridge run -config /etc/factorybridge/config.toml") {
		t.Errorf("ExecStart=%s", exec)
	}
	sysusers, err := os.ReadFile(filepath.Join(dir, "factorybridge.sysusers"))
	if err != nil || !strings.Contains(string(sysusers), "u factorybridge ") {
		t.Errorf("factorybridge.sysusers does not create the user: %v", err)
	}
	verifyUnit(t, unit)
}

// verifyUnit runs systemd-analyze verify on a copy of the unit whose
// ExecStart is the release binary (verify checks it is executable). verify
// exits 0 after warnings such as an unknown key, so any output fails.
func verifyUnit(t *testing.T, unit string) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Unavailable(t, "no systemd-analyze (scripts/deps.sh installs systemd)")
		return
	}
	data, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "/usr/local/bin/factorybridge", releaseBinary(t))
	copyPath := filepath.Join(t.TempDir(), "factorybridge.service")
	if err := os.WriteFile(copyPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
