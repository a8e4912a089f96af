//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
	"factorybridge/internal/testenv/tmpfs"
	"factorybridge/publisher/mqtt"
)

// TestFaultDiskTrouble puts the bridge's data directory on a 4 MiB tmpfs
// (skipped where mounting is not allowed; buffer/fault_test.go injects the
// same errors everywhere).
//
//  1. Read-only at start: the bridge exits 1 naming the file and
//     "read-only file system", and moves nothing aside.
//  2. Full while running, broker down, 10 counters at 200/s: commits fail
//     with ENOSPC, logged once; the process stays up; pending readings are
//     kept (Append blocks: the OPC UA server queues and then discards, so
//     counter values may be missing, but no seq is). After the filler
//     file is deleted, commits resume (logged); the broker returns and
//     every committed seq arrives: no seq gap, nothing dropped.
func TestFaultDiskTrouble(t *testing.T) { forProtocols(t, mqtt.Protocol311, faultDiskTrouble) }

func faultDiskTrouble(t *testing.T, proto string) {
	const nodes, rate = 10, 200
	disk := tmpfs.Mount(t, 4<<20)
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: rate})
	broker := testenv.StartMosquittoWith(t, testenv.MosquittoOptions{Persistence: true})
	cons := consumer.Start(t, broker.URL, consumer.Options{Topic: "fb/e2e/#", Persistent: true})
	cfg := testenv.WriteLoadConfig(t, testenv.LoadConfig{Endpoint: sim.Endpoint, Broker: broker.URL,
		Nodes: nodes, DataDir: disk.Dir, MaxBytes: 64 << 20, Protocol: proto})
	dbPath := filepath.Join(disk.Dir, "buffer.db")

	br := testenv.StartBridge(t, cfg)
	br.WaitLog(t, `"msg":"status"`, 10*time.Second)
	if code := br.Stop(); code != 0 {
		t.Fatalf("bridge exited with %d", code)
	}
	if err := disk.SetReadOnly(true); err != nil {
		t.Fatal(err)
	}
	br.Start()
	testenv.Wait(t, 10*time.Second, "the bridge to exit on a read-only data directory", func() bool { return !br.Running() })
	if code := br.Stop(); code != 1 || !strings.Contains(br.Logs(), "read-only file system") {
		t.Fatalf("on a read-only disk: exit %d, want 1 with the error\n%s", code, br.LogTail())
	}
	if aside, _ := filepath.Glob(dbPath + ".corrupt-*"); len(aside) > 0 {
		t.Fatalf("a healthy buffer was moved aside: %v", aside)
	}
	if err := disk.SetReadOnly(false); err != nil {
		t.Fatal(err)
	}

	broker.Stop()
	br.Start()
	br.WaitLog(t, `"mqtt_connected":false`, 10*time.Second)
	filler, size := disk.Fill(t, "filler")
	line := br.WaitLog(t, "buffer commit failed", 30*time.Second)
	t.Logf("filled %d bytes; %s", size, line)
	hold := 5 * time.Second
	if testenv.FaultFull() {
		hold = 60 * time.Second
	}
	time.Sleep(hold) // the disk stays full for a while: the process must stay up
	if !br.Running() {
		t.Fatalf("bridge exited with a full disk\n%s", br.LogTail())
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	br.WaitLog(t, "buffer commits succeed again", 10*time.Second)
	if n := strings.Count(br.Logs(), "buffer commit failed"); n != 1 {
		t.Errorf("logged %d commit failures for one episode, want 1", n)
	}
	if err := sim.Stop(); err != nil {
		t.Fatal(err)
	}
	broker.Start()
	testenv.Wait(t, 60*time.Second, "the buffer to drain", func() bool {
		st := br.Entries("status")
		return len(st) > 0 && st[len(st)-1].Num("buffer_depth") == 0 && st[len(st)-1].Num("servers_connected") == 0
	})
	last := br.Entries("status")
	st := last[len(last)-1]
	// The broker acknowledges before the consumer, reconnecting to its
	// persistent session after the broker's restart, has received
	// everything: checkDense waits. Nothing dropped, so none excused; the
	// readings of every run, from the first, share one sequence.
	t.Logf("after recovery: last seq %v, dropped %v", st.Num("last_seq"), st.Num("dropped"))
	if st.Num("dropped") != 0 {
		t.Errorf("the buffer dropped %v readings", st.Num("dropped"))
	}
	checkDense(t, br.StopDrained(t), 0, cons.Seqs)
}
