package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportWriters imports the fixture with every kind of field: the map
// written validates, every setting not mapped is listed on stderr with its
// line and noted in the file, and the password in the JSON is not copied.
func TestImportWriters(t *testing.T) {
	out := filepath.Join(t.TempDir(), "imported.toml")
	_, stderr, err := nodemapCLI(t, "import", "-o", out, "-bridge-id", "line2", "../../internal/publishednodes/testdata/writers.json")
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	for _, s := range []string{
		"writers.json:28: [0].OpcNodes[1].HeartbeatIntervalTimespan: \"00:01:00\" not mapped",
		"writers.json:73: [3]: EndpointUrl is required: entry skipped",
		"import: 7 nodes mapped, 6 nodes skipped, 16 settings not mapped",
	} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
	t.Setenv("OPCUA_PASSWORD_10_1_2_3", "from-the-environment")
	cfg := nodemapLoad(t, out)
	if cfg.Bridge.ID != "line2" || len(cfg.Nodes("")) != 7 {
		t.Errorf("bridge %q, %d nodes", cfg.Bridge.ID, len(cfg.Nodes("")))
	}
	text, _ := os.ReadFile(out)
	if strings.Contains(string(text), "s3cret-from-the-json") {
		t.Error("the JSON's password was copied")
	}
	if !strings.Contains(string(text), "# HeartbeatIntervalTimespan: \"00:01:00\" not mapped") {
		t.Errorf("no heartbeat comment:\n%s", text)
	}
	_, stderr, _ = nodemapCLI(t, "validate", "-config", out)
	if stderr != "" {
		t.Errorf("validate: %s", stderr)
	}
}

// TestImportErrors checks that bad input names the file and line and says
// what to do, and that usage errors explain themselves.
func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("[\n  { \"EndpointUrl\": \"opc.tcp://a:1\" \n    \"OpcNodes\": [] }\n]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := nodemapCLI(t, "import", bad)
	if err == nil || !strings.Contains(err.Error(), bad+":3: JSON syntax error") || !strings.Contains(err.Error(), "check the file with a JSON validator") {
		t.Errorf("syntax error: %v", err)
	}
	_, _, err = nodemapCLI(t, "import", filepath.Join(dir, "missing.json"))
	if err == nil || !strings.Contains(err.Error(), "missing.json: no such file") {
		t.Errorf("missing file: %v", err)
	}
	_, stderr, err := nodemapCLI(t, "import")
	if err == nil || !strings.Contains(stderr, "one publishednodes.json file is required") {
		t.Errorf("no argument: %v %s", err, stderr)
	}
	_, stderr, _ = nodemapCLI(t, "import", "-h")
	for _, s := range []string{"DataSetWriterGroup", "heartbeats and\nskip-first", "FILE:LINE", "Passwords are never copied"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("import -h lacks %q", s)
		}
	}
}
