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
	"factorybridge/publisher/mqtt"
)

// TestFaultCorruptStoreAtStart starts the bridge binary on a data directory
// whose buffer.db is garbage (64 KiB of a repeated phrase), then again on
// a valid buffer whose tree pages were overwritten: each time the file is
// moved aside with one clear log line naming both paths, a fresh buffer
// starts, and readings flow from seq 1: every seq of the run, 1 to its
// last, arrives. The page-level variants are in buffer/fault_test.go
// (TestFaultCorruptPages), corrupt segments skipped and logged in
// buffer/fault_segment_test.go.
func TestFaultCorruptStoreAtStart(t *testing.T) {
	forProtocols(t, mqtt.Protocol5, faultCorruptStoreAtStart)
}

func faultCorruptStoreAtStart(t *testing.T, proto string) {
	const nodes, rate = 3, 50
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: rate})
	broker := testenv.StartMosquitto(t)
	cons := consumer.Start(t, broker.URL, consumer.Options{Topic: "fb/e2e/#"})
	dataDir := t.TempDir()
	dbPath := filepath.Join(dataDir, "buffer.db")
	if err := os.WriteFile(dbPath, bytes.Repeat([]byte("not a bbolt file "), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testenv.WriteLoadConfig(t, testenv.LoadConfig{Endpoint: sim.Endpoint, Broker: broker.URL, Nodes: nodes, DataDir: dataDir,
		Protocol: proto})
	br := testenv.StartBridge(t, cfg)
	line := br.WaitLog(t, "moved it aside", 20*time.Second)
	checkQuarantined(t, dbPath, line, br.Logs(), 1)
	testenv.Wait(t, 20*time.Second, "readings after the fresh start", func() bool { return cons.MinCount(loadNames(nodes)) >= 50 })
	checkDense(t, br.StopDrained(t), 0, cons.Seqs)

	// Now a valid file (closed cleanly) with pages 2–5 overwritten.
	f, err := os.OpenFile(dbPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 4*4096), 2*4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// A consumer of the second run alone: its seqs start at 1 again.
	cons2 := consumer.Start(t, broker.URL, consumer.Options{Topic: "fb/e2e/#", ClientID: "corrupt-run-2"})
	br.Start()
	line = br.WaitLog(t, "moved it aside", 20*time.Second)
	checkQuarantined(t, dbPath, line, br.Logs(), 2)
	br.Mark()
	br.WaitLogFunc(t, func(l string) bool {
		return strings.Contains(l, `"msg":"status"`) && !strings.Contains(l, `"published":0,`)
	}, 20*time.Second, "a status line with readings published")
	checkDense(t, br.StopDrained(t), 0, cons2.Seqs)
}

func loadNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = testenv.LoadNodeName(i)
	}
	return names
}

// checkQuarantined checks that want files were moved aside, each with one
// log line (logs holds every run's), and that the line names the file and
// where it went.
func checkQuarantined(t *testing.T, dbPath, line, logs string, want int) {
	t.Helper()
	aside, _ := filepath.Glob(dbPath + ".corrupt-*")
	if len(aside) != want {
		t.Fatalf("%d files moved aside, want %d: %v", len(aside), want, aside)
	}
	if n := strings.Count(logs, "moved it aside"); n != want {
		t.Errorf("%d lines about moving the file aside for %d files", n, want)
	}
	if !strings.Contains(line, dbPath) || !strings.Contains(line, ".corrupt-") || !strings.Contains(line, `"level":"ERROR"`) {
		t.Errorf("quarantine log line does not name both files: %s", line)
	}
	t.Logf("quarantined: %s", line)
}
