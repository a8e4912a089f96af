package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"factorybridge/internal/testenv"
)

// TestSIGHUPDoesNotEndTheBridge: SIGHUP used to end the process without
// its shutdown. Now it reads the config again: an unchanged file is
// accepted, a changed node is applied, a change of what cannot change
// while running is reported as needing a restart (naming the section), a
// broken file has every problem logged with file:line; the bridge runs on
// through all of them and stops cleanly afterwards.
func TestSIGHUPDoesNotEndTheBridge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bridge.toml")
	nobody := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)) // nothing listens: both sides retry
	good := fmt.Sprintf("[bridge]\nid = \"hup\"\ndata_dir = %q\n\n[mqtt]\nbroker = \"tcp://%s\"\n\n"+
		"[[servers]]\nname = \"plc\"\nendpoint = \"opc.tcp://%s\"\n\n"+
		"[[lines]]\nname = \"line1\"\n[[lines.stations]]\nname = \"st\"\nnodes = [{ name = \"n\", id = \"ns=1;s=n\" }]\n",
		dir, nobody, nobody)
	write := func(text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(good)
	br := testenv.StartBridge(t, path)
	br.WaitLog(t, `"msg":"starting"`, 60*time.Second)
	hup := func(wait string) string {
		t.Helper()
		br.Mark()
		if err := syscall.Kill(br.PID(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		return br.WaitLog(t, wait, 30*time.Second)
	}

	hup("config reloaded: nothing changed")
	write("# a comment changes nothing the bridge runs on\n" + good)
	hup("config reloaded: nothing changed")

	nodeChanged := strings.Replace(good, `id = "ns=1;s=n"`, `id = "ns=1;s=m"`, 1)
	write(nodeChanged)
	if line := hup(`"msg":"config reloaded"`); !strings.Contains(line, `"changed":"lines"`) {
		t.Errorf("the reload does not name the changed section: %s", line)
	}

	write(strings.Replace(nodeChanged, "[mqtt]\n", "[buffer]\nmax_bytes = 1048576\n\n[mqtt]\n", 1))
	if line := hup("needs a restart"); !strings.Contains(line, "buffer changed") {
		t.Errorf("the restart warning does not name the changed section: %s", line)
	}

	write(strings.Replace(good, "[mqtt]\n", "[mqtt]\nqos = 7\nbogus = 1\n", 1))
	hup("config not reloaded")
	logs := br.Logs()
	for _, want := range []string{path + ":6: mqtt.qos", path + ":7: mqtt.bogus: unknown key"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no logged problem %q\n%s", want, br.LogTail())
		}
	}

	br.Mark()
	br.WaitLog(t, `"msg":"status"`, 30*time.Second) // still running and reporting
	if code := br.Stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, br.LogTail())
	}
	if !strings.Contains(br.Logs(), `"msg":"stopped"`) {
		t.Errorf("no clean shutdown after the SIGHUPs\n%s", br.LogTail())
	}
}
