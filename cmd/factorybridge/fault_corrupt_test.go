package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
)

// TestFaultCorruptStoreAtStart starts the bridge binary on a data directory
// whose buffer.db is garbage (64 KiB of a repeated phrase), then again on
// a valid buffer whose tree pages were overwritten: each time the file is
// moved aside with one clear log line naming both paths, a fresh buffer
// starts, and readings flow from seq 1. The page-level variants are in
// buffer/fault_test.go (TestFaultCorruptPages).
func TestFaultCorruptStoreAtStart(t *testing.T) {
	const nodes, rate = 3, 50
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: rate})
	broker := testenv.StartMosquitto(t)
	cons := consumer.Start(t, broker.URL, consumer.Options{Topic: "fb/e2e/#"})
	dataDir := t.TempDir()
	dbPath := filepath.Join(dataDir, "buffer.db")
	if err := os.WriteFile(dbPath, bytes.Repeat([]byte("not a bbolt file "), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testenv.WriteLoadConfig(t, testenv.LoadConfig{Endpoint: sim.Endpoint, Broker: broker.URL, Nodes: nodes, DataDir: dataDir})
	br := testenv.StartBridge(t, cfg)
	line := br.WaitLog(t, "moved it aside", 20*time.Second)
	checkQuarantined(t, dbPath, line, 1)
	testenv.Wait(t, 20*time.Second, "readings after the fresh start", func() bool { return cons.MinCount(loadNames(nodes)) >= 50 })
	if code := br.Stop(); code != 0 {
		t.Fatalf("bridge exited with %d", code)
	}

	// Now a valid file (closed cleanly) with pages 2–5 overwritten.
	f, err := os.OpenFile(dbPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 4*4096), 2*4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	br.Start()
	line = br.WaitLog(t, "moved it aside", 20*time.Second)
	checkQuarantined(t, dbPath, line, 2)
	br.Mark()
	br.WaitLogFunc(t, func(l string) bool {
		return strings.Contains(l, `"msg":"status"`) && !strings.Contains(l, `"published":0,`)
	}, 20*time.Second, "a status line with readings published")
	if code := br.Stop(); code != 0 {
		t.Fatalf("bridge exited with %d", code)
	}
}

func loadNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = testenv.LoadNodeName(i)
	}
	return names
}

// checkQuarantined checks that want files were moved aside and that the
// log line names the file and where it went.
func checkQuarantined(t *testing.T, dbPath, line string, want int) {
	t.Helper()
	aside, _ := filepath.Glob(dbPath + ".corrupt-*")
	if len(aside) != want {
		t.Fatalf("%d files moved aside, want %d: %v", len(aside), want, aside)
	}
	if !strings.Contains(line, dbPath) || !strings.Contains(line, ".corrupt-") || !strings.Contains(line, `"level":"ERROR"`) {
		t.Errorf("quarantine log line does not name both files: %s", line)
	}
	t.Logf("quarantined: %s", line)
}
