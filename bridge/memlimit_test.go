package bridge

import (
	"fmt"
	"strings"
	"testing"

	"factorybridge/internal/testenv"
)

// memConfig is a configuration of n nodes on one server with the given
// [[servers]] and [buffer] settings.
func memConfig(t *testing.T, n int, server, buffer string) string {
	t.Helper()
	var s strings.Builder
	fmt.Fprintf(&s, "bridge.id = \"b1\"\nbridge.data_dir = \"/tmp/fb\"\nmqtt.broker = \"tcp://127.0.0.1:1883\"\n%s\n", buffer)
	fmt.Fprintf(&s, "[[servers]]\nname = \"plc\"\nendpoint = \"opc.tcp://127.0.0.1:4840\"\n%s\n", server)
	s.WriteString("[[lines]]\nname = \"line1\"\n\n[[lines.stations]]\nname = \"load\"\nnodes = [\n")
	for i := range n {
		fmt.Fprintf(&s, "{ name = \"n%d\", id = \"ns=1;s=load.%d\" },\n", i, i)
	}
	s.WriteString("]\n")
	return s.String()
}

func TestMemoryLimit(t *testing.T) {
	const issue = "publishing_interval = \"1s\"\nsampling_interval = \"100ms\"\nqueue_size = 20\n"
	tests := []struct {
		name           string
		nodes          int
		server, buffer string
		wantMiB        int64
	}{
		{"one node: the floor", 1, "", "", 40},
		// 10 notifications per node and second: sampling 100 ms, publishing 1 s.
		{"10,000 nodes as in the issue", 10000, issue, "", 49},
		{"30,000 nodes as in the issue", 30000, issue, "", 93},
		// Sampling "0s" is bounded by the queue alone: 22 per interval.
		{"sampling 0s", 10000, "publishing_interval = \"1s\"\nsampling_interval = \"0s\"\nqueue_size = 22\n", "", 59},
		// Sampled every 5 s, published every second: one per interval.
		{"sampling slower than publishing", 10000, "publishing_interval = \"1s\"\nsampling_interval = \"5s\"\nqueue_size = 20\n", "", 41},
		{"fewer readings wait for a commit", 10000, issue, "buffer.commit_max_readings = 100\n", 44},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := parse(t, memConfig(t, tt.nodes, tt.server, tt.buffer))
			if got := MemoryLimit(cfg); got != tt.wantMiB<<20 {
				t.Errorf("MemoryLimit = %d MiB (%d), want %d MiB", got>>20, got, tt.wantMiB)
			}
		})
	}
}

// TestSetMemoryLimit: the derived limit is set and logged; GOMEMLIMIT in
// the environment wins and is only read.
func TestSetMemoryLimit(t *testing.T) {
	cfg := parse(t, baseConfig)
	for _, tt := range []struct {
		env      string
		wantSets []int64 // the arguments debug.SetMemoryLimit got
		wantMsg  string
	}{
		{"", []int64{40 << 20}, "memory limit derived from the configuration (GOMEMLIMIT overrides it)"},
		{"200MiB", []int64{-1}, "memory limit from GOMEMLIMIT"},
	} {
		var logs testenv.Logs
		var sets []int64
		set := func(limit int64) int64 { sets = append(sets, limit); return 200 << 20 }
		got := setMemoryLimit(cfg, logs.Logger(), func(k string) string {
			if k == "GOMEMLIMIT" {
				return tt.env
			}
			return ""
		}, set)
		if fmt.Sprint(sets) != fmt.Sprint(tt.wantSets) {
			t.Errorf("GOMEMLIMIT=%q: SetMemoryLimit called with %v, want %v", tt.env, sets, tt.wantSets)
		}
		if want := tt.wantSets[0]; want > 0 && got != want || want < 0 && got != 200<<20 {
			t.Errorf("GOMEMLIMIT=%q: returned %d", tt.env, got)
		}
		if recs := logs.Records(tt.wantMsg); len(recs) != 1 || recs[0]["limit_mib"] == nil {
			t.Errorf("GOMEMLIMIT=%q: want one %q line with limit_mib, got %v", tt.env, tt.wantMsg, recs)
		}
	}
}
