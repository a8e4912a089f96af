package buffer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as a crashing writer (see
// TestKill9KeepsEveryCommittedReading).
func TestMain(m *testing.M) {
	if path := os.Getenv("BUFFER_CRASH_CHILD"); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

// crashChild appends readings forever, printing the last sequence of each
// commit once Flush confirmed it, until it is killed.
func crashChild(path string) {
	b, err := Open(Options{Path: path, CommitInterval: 5 * time.Millisecond})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	go b.Run(context.Background())
	out := bufio.NewWriter(os.Stdout)
	for {
		_ = b.Append(context.Background(), loadReadings(97, 7))
		if err := b.Flush(context.Background()); err != nil {
			fmt.Fprintln(out, "error", err)
		}
		st := b.Stats()
		if st.LastSeq > 500 {
			_ = b.Ack(st.LastSeq - 500)
		}
		fmt.Fprintln(out, "committed", st.LastSeq)
		out.Flush()
	}
}

func TestKill9KeepsEveryCommittedReading(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := testPath(t)
	var lastReported uint64
	for round := 0; round < 3; round++ {
		lastReported = runAndKill(t, path, lastReported+3000)
		h := open(t, Options{Path: path})
		st := h.buf.Stats()
		if st.LastSeq < lastReported {
			t.Fatalf("round %d: reopened at last seq %d, but %d was reported committed", round, st.LastSeq, lastReported)
		}
		got := h.readAll(0, 10000)
		if len(got) == 0 || got[len(got)-1].Seq != st.LastSeq {
			t.Fatalf("round %d: read %d readings, last seq %d", round, len(got), st.LastSeq)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Seq != got[i-1].Seq+1 {
				t.Fatalf("round %d: gap after seq %d", round, got[i-1].Seq)
			}
		}
		h.close()
	}
}

// runAndKill runs a crash child until it reports at least min committed,
// kills it with SIGKILL, and returns the last sequence it reported.
func runAndKill(t *testing.T, path string, min uint64) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BUFFER_CRASH_CHILD="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(30 * time.Second)
	var last uint64
	for sc.Scan() && time.Now().Before(deadline) {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "committed" {
			last, _ = strconv.ParseUint(f[1], 10, 64)
		} else {
			t.Fatalf("child: %s", sc.Text())
		}
		if last >= min {
			cmd.Process.Kill()
			return last
		}
	}
	cmd.Process.Kill()
	t.Fatalf("child reported only %d committed readings", last)
	return 0
}
