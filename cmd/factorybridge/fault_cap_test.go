package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
	"factorybridge/publisher/mqtt"
)

// waitQuiet waits, once the simulator stopped, for a status line showing
// no server connected, nothing received since the line before and all of
// it committed, which more (nil: any) accepts too; it returns that line.
// Its counters are final as far as the OPC UA side goes.
func waitQuiet(t *testing.T, br *testenv.Bridge, more func(testenv.LogEntry) bool) testenv.LogEntry {
	t.Helper()
	var st testenv.LogEntry
	testenv.Wait(t, 20*time.Second, "a status line after the simulator stopped with nothing pending", func() bool {
		s := br.Entries("status")
		if len(s) < 2 {
			return false
		}
		st = s[len(s)-1]
		prev := s[len(s)-2]
		return st.Num("servers_connected") == 0 && st.Num("received") == prev.Num("received") &&
			st.Num("received") == st.Num("committed") && (more == nil || more(st))
	})
	return st
}

// newestStatus returns the newest status line of the bridge's current log.
func newestStatus(t *testing.T, br *testenv.Bridge) testenv.LogEntry {
	t.Helper()
	st := br.Entries("status")
	if len(st) == 0 {
		t.Fatalf("no status line\n%s", br.LogTail())
	}
	return st[len(st)-1]
}

// TestFaultCapBrokerDown runs 20 load counters at 500 changes/s (10,000
// readings/s, ~130 KB/s of segments) into a 1 MiB buffer while the broker
// is down for 15 s (full: 120 s): the buffer drops its oldest readings,
// counts them in the status line, the process stays up and the file stays
// within the cap plus bbolt's slack. Then the simulator stops, the broker
// returns, and exactly the readings kept arrive: the seqs missing at the
// consumer are the dropped count, all of them before the first kept one.
func TestFaultCapBrokerDown(t *testing.T) { forProtocols(t, mqtt.Protocol311, faultCapBrokerDown) }

func faultCapBrokerDown(t *testing.T, proto string) {
	const nodes, rate, maxBytes = 20, 500, 1 << 20
	const slack = 3 << 20 // buffer/fault_test.go capSlack; docs/faults.md (5)
	down := 15 * time.Second
	if testenv.FaultFull() {
		down = 120 * time.Second
	}
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: rate})
	broker := testenv.StartMosquittoWith(t, testenv.MosquittoOptions{Persistence: true})
	cons := consumer.Start(t, broker.URL, consumer.Options{Topic: "fb/e2e/#", Persistent: true})
	broker.Stop()
	dataDir := t.TempDir()
	br := testenv.StartBridge(t, testenv.WriteLoadConfig(t, testenv.LoadConfig{
		Endpoint: sim.Endpoint, Broker: broker.URL, Nodes: nodes, MaxBytes: maxBytes, DataDir: dataDir, Protocol: proto}))
	dbPath := filepath.Join(dataDir, "buffer.db")
	var biggest int64
	deadline := time.Now().Add(down)
	for time.Now().Before(deadline) {
		if !br.Running() {
			t.Fatalf("bridge exited with the broker down\n%s", br.LogTail())
		}
		if fi, err := os.Stat(dbPath); err == nil {
			biggest = max(biggest, fi.Size())
		}
		time.Sleep(100 * time.Millisecond) // sampling the file size, not waiting for an event
	}
	br.WaitLog(t, "buffer full: dropping the oldest", 10*time.Second)
	if err := sim.Stop(); err != nil {
		t.Fatal(err)
	}
	// The counters stop; wait until the last readings are committed.
	st := waitQuiet(t, br, nil)
	dropped, lastSeq := uint64(st.Num("dropped")), uint64(st.Num("last_seq"))
	t.Logf("broker down %v: %d readings committed, %d dropped, %d kept (%d bytes); file at most %d bytes (cap + %d)",
		down, lastSeq, dropped, lastSeq-dropped, uint64(st.Num("buffer_bytes")), biggest, biggest-maxBytes)
	if dropped == 0 || biggest > maxBytes+slack || st.Num("buffer_bytes") > maxBytes {
		t.Fatalf("dropped %d, file %d bytes, stored %v: want drops, file <= %d", dropped, biggest, st.Num("buffer_bytes"), maxBytes+slack)
	}

	broker.Start()
	testenv.Wait(t, 60*time.Second, "every kept reading at the consumer", func() bool {
		_, _, _, maxSeq := cons.Totals()
		return maxSeq == lastSeq && len(br.Entries("status")) > 0 && newestStatus(t, br).Num("buffer_depth") == 0
	})
	lo, hi, gaps := cons.SeqGaps(nil)
	missing := lo - 1
	for _, g := range gaps {
		missing += g[1] - g[0] + 1
	}
	t.Logf("consumer: seqs %d..%d, %d missing in %d runs besides the first %d", lo, hi, missing-(lo-1), len(gaps), lo-1)
	if hi != lastSeq || missing != dropped || lo != dropped+1 {
		t.Errorf("consumer saw seqs %d..%d with %d missing (gaps %v); want %d..%d, the %d dropped missing, all before the first",
			lo, hi, missing, gaps[:min(5, len(gaps))], dropped+1, lastSeq, dropped)
	}
	if n, errs := cons.Errors(); n > 0 {
		t.Errorf("%d bad messages: %v", n, errs)
	}
	if code := br.Stop(); code != 0 {
		t.Fatalf("bridge exited with %d", code)
	}
}
