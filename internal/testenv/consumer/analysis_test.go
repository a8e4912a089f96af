package consumer

import (
	"slices"
	"strings"
	"testing"
)

// Every fault test trusts the analysis: these show that it reports what it
// claims to catch, and nothing on a clean stream. Samples are fed in as
// decoded, without a broker.

// vs is a counter value and the seq it arrived with.
type vs struct{ value, seq uint64 }

// fed returns a Consumer that received, per name, the samples in order;
// each sample's server timestamp is its value, in ms.
func fed(streams map[string][]vs) *Consumer {
	c := New(Options{})
	for name, s := range streams {
		for _, x := range s {
			c.nodes[name] = append(c.nodes[name], Sample{Value: x.value, Seq: x.seq, Server: int64(x.value)})
			c.total++
		}
	}
	return c
}

// counting returns values from..to with seqs from seq, one per value.
func counting(from, to, seq uint64) []vs {
	var out []vs
	for v := from; v <= to; v++ {
		out = append(out, vs{v, seq + v - from})
	}
	return out
}

// cat concatenates streams.
func cat(parts ...[]vs) []vs { return slices.Concat(parts...) }

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name                                    string
		stream                                  []vs
		lost                                    uint64
		gaps, dups, seqMismatch, reorders, dist int
	}{
		{"clean", counting(1, 100, 1), 0, 0, 0, 0, 0, 100},
		{"a gap", cat(counting(1, 10, 1), counting(14, 20, 11)), 3, 1, 0, 0, 0, 17},
		{"two gaps", cat(counting(1, 5, 1), counting(7, 8, 6), counting(12, 12, 8)), 4, 2, 0, 0, 0, 8},
		{"a resend with its seq", cat(counting(1, 10, 1), counting(6, 10, 6), counting(11, 12, 11)), 0, 0, 5, 0, 0, 12},
		{"a duplicate with another seq", cat(counting(1, 10, 1), []vs{{5, 11}}, counting(11, 12, 12)), 0, 0, 1, 1, 0, 12},
		{"reordered", cat(counting(1, 2, 1), []vs{{4, 4}, {3, 3}}, counting(5, 6, 5)), 0, 0, 0, 0, 1, 6},
		{"reordered and a gap", []vs{{1, 1}, {3, 3}, {2, 2}, {6, 6}}, 2, 1, 0, 0, 1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := fed(map[string][]vs{"n0": tt.stream}).Analyze([]string{"n0"}, nil)
			if a.Err != nil || len(a.Missing) > 0 || len(a.Nodes) != 1 {
				t.Fatalf("analysis %v", a)
			}
			r := a.Nodes[0]
			got := []int{int(a.Lost), len(r.Gaps), a.Dups, a.SeqMismatch, a.Reorders, r.Distinct, r.Received}
			want := []int{int(tt.lost), tt.gaps, tt.dups, tt.seqMismatch, tt.reorders, tt.dist, len(tt.stream)}
			if !slices.Equal(got, want) {
				t.Errorf("lost, gaps, dups, seq mismatches, reorders, distinct, received = %v, want %v\n%v", got, want, a)
			}
		})
	}
}

// TestAnalyzeNamesTheProblem checks the details fault tests act on: a
// gap's samples around it (the kill test attributes gaps by their server
// timestamps), a duplicate's two copies, a reorder's two values.
func TestAnalyzeNamesTheProblem(t *testing.T) {
	c := fed(map[string][]vs{"n0": {{1, 1}, {2, 2}, {5, 3}, {4, 4}, {2, 9}}})
	a := c.Analyze([]string{"n0"}, nil)
	r := a.Nodes[0]
	if len(r.Gaps) != 1 || r.Gaps[0].After.Value != 2 || r.Gaps[0].Before.Value != 4 || r.Gaps[0].Lost() != 1 ||
		r.Gaps[0].After.Server != 2 || r.Gaps[0].Before.Server != 4 {
		t.Errorf("gaps %+v, want value 3 missing between 2 and 4", r.Gaps)
	}
	if len(r.Dups) != 1 || r.Dups[0].First.Seq != 2 || r.Dups[0].Again.Seq != 9 || r.SeqMismatch != 1 {
		t.Errorf("dups %+v, want value 2 again with seq 9 instead of 2", r.Dups)
	}
	if !slices.Equal(r.Reorders, [][2]uint64{{4, 5}}) {
		t.Errorf("reorders %v, want 4 after 5", r.Reorders)
	}
	for _, want := range []string{"1 lost", "1 duplicates (1 with another seq)", "1 reordered",
		"n0: 1 lost after value 2 (seq 2) before 4 (seq 4)", "n0: value 4 arrived after 5"} {
		if !strings.Contains(a.String(), want) {
			t.Errorf("summary lacks %q:\n%v", want, a)
		}
	}
}

// TestAnalyzeNodesApart: each node is its own counter, a name with no
// sample is reported missing, keep selects samples, and a span too large
// to be one counter's is an error, not a huge loss.
func TestAnalyzeNodesApart(t *testing.T) {
	c := fed(map[string][]vs{
		"n0": {{1, 1}, {2, 3}, {3, 5}},
		"n1": {{7, 2}, {8, 4}, {10, 6}},
		"n2": {{1, 7}, {maxSpan + 1, 8}},
	})
	a := c.Analyze([]string{"n0", "n1", "n3"}, nil)
	if a.Lost != 1 || a.Dups != 0 || a.Reorders != 0 || !slices.Equal(a.Missing, []string{"n3"}) || a.Err != nil {
		t.Errorf("analysis %v, want 1 lost (n1's 9) and n3 missing", a)
	}
	if a := c.Analyze([]string{"n1"}, func(s Sample) bool { return s.Value != 10 }); a.Lost != 0 {
		t.Errorf("keep without value 10: %v, want nothing lost", a)
	}
	if a := c.Analyze([]string{"n2"}, nil); a.Err == nil {
		t.Errorf("a span of %d values analysed: %v", maxSpan, a)
	}
}

func TestSeqGaps(t *testing.T) {
	c := fed(map[string][]vs{"n0": {{1, 3}, {2, 4}, {3, 8}}, "n1": {{1, 5}, {2, 4}, {3, 9}, {4, 12}}})
	lo, hi, gaps := c.SeqGaps(nil)
	if lo != 3 || hi != 12 || !slices.Equal(gaps, [][2]uint64{{6, 7}, {10, 11}}) {
		t.Errorf("SeqGaps = %d, %d, %v; want 3, 12, [[6 7] [10 11]]", lo, hi, gaps)
	}
	if got := c.Seqs(); !slices.Equal(got, []uint64{3, 4, 5, 8, 9, 12}) {
		t.Errorf("Seqs = %v", got)
	}
}

func TestCheckDense(t *testing.T) {
	tests := []struct {
		name    string
		last    uint64
		excused uint64
		sets    [][]uint64
		wantErr string // "" = dense
	}{
		{"dense", 6, 0, [][]uint64{{1, 2, 3, 4, 5, 6}}, ""},
		{"dense with duplicates, out of order", 4, 0, [][]uint64{{4, 1, 2, 2, 3, 4}}, ""},
		{"readings and OEE records together", 6, 0, [][]uint64{{1, 2, 4, 6}, {3, 5}}, ""},
		{"nothing committed", 0, 0, nil, ""},
		{"a gap", 6, 0, [][]uint64{{1, 2, 5, 6}}, "2 of seqs 1..6 missing in 1 runs [[3 4]], want 0"},
		{"the first missing", 3, 0, [][]uint64{{2, 3}}, "1 of seqs 1..3 missing in 1 runs [[1 1]]"},
		{"the last missing", 3, 0, [][]uint64{{1, 2}}, "1 of seqs 1..3 missing in 1 runs [[3 3]]"},
		{"nothing arrived", 3, 0, nil, "3 of seqs 1..3 missing"},
		{"dropped oldest, excused", 6, 2, [][]uint64{{3, 4, 5, 6}}, ""},
		{"rejected ones, excused", 6, 2, [][]uint64{{1, 3, 4, 6}}, ""},
		{"more missing than excused", 6, 1, [][]uint64{{1, 3, 4, 6}}, "2 of seqs 1..6 missing in 2 runs [[2 2] [5 5]], want 1"},
		{"fewer missing than excused", 6, 3, [][]uint64{{1, 3, 4, 6}}, "want 3"},
		{"a seq above the last", 3, 0, [][]uint64{{1, 2, 3, 4}}, "seq 4 arrived, above the last seq 3"},
		{"seq 0", 3, 0, [][]uint64{{0, 1, 2, 3}}, "seq 0 arrived"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDense(tt.last, tt.excused, tt.sets...)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("CheckDense(%d, %d, %v) = %v, want %q", tt.last, tt.excused, tt.sets, err, tt.wantErr)
			}
		})
	}
}
