package consumer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// maxSpan bounds the counter range one node's analysis covers (4 bytes per
// value); a larger span means the counter restarted: split with keep.
const maxSpan = 64 << 20

// Gap is a run of counter values that never arrived: every value strictly
// between After and Before.
type Gap struct {
	After, Before Sample // first copies of the values around the gap
}

// Lost returns how many values are missing in the gap.
func (g Gap) Lost() uint64 { return g.Before.Value - g.After.Value - 1 }

// Dup is a counter value that arrived again.
type Dup struct {
	First, Again Sample
}

// NodeReport is what arrived of one node's counter.
type NodeReport struct {
	Name        string
	Received    int    // samples, duplicates included
	Distinct    int    // distinct counter values
	First, Last uint64 // smallest and largest value
	Gaps        []Gap
	Lost        uint64 // values missing between First and Last
	Dups        []Dup
	// SeqMismatch counts duplicates whose seq differs from their first
	// copy's: a duplicate that is not identifiable by its seq.
	SeqMismatch int
	// Reorders are first copies that arrived after a larger value's first
	// copy: the value and the larger value already seen.
	Reorders [][2]uint64
}

// Analysis is a Consumer's record checked for loss, duplicates and order.
type Analysis struct {
	Nodes       []NodeReport // in the order of the names asked for
	Lost        uint64
	Dups        int
	SeqMismatch int
	Reorders    int
	Missing     []string // names asked for with no sample
	Err         error    // a node's span too large to analyse
}

// Analyze checks the samples of names that keep accepts (nil keeps all):
// per node, gaps in the counter, duplicate values (and whether they carry
// their first copy's seq) and values whose first copy arrived out of order.
func (c *Consumer) Analyze(names []string, keep func(Sample) bool) Analysis {
	var a Analysis
	for _, n := range names {
		var s []Sample
		for _, x := range c.Samples(n) {
			if keep == nil || keep(x) {
				s = append(s, x)
			}
		}
		if len(s) == 0 {
			a.Missing = append(a.Missing, n)
			continue
		}
		r, err := analyzeNode(n, s)
		if err != nil {
			a.Err = err
			continue
		}
		a.add(r)
	}
	return a
}

func (a *Analysis) add(r NodeReport) {
	a.Nodes = append(a.Nodes, r)
	a.Lost += r.Lost
	a.Dups += len(r.Dups)
	a.SeqMismatch += r.SeqMismatch
	a.Reorders += len(r.Reorders)
}

func analyzeNode(name string, s []Sample) (NodeReport, error) {
	r := NodeReport{Name: name, Received: len(s), First: s[0].Value, Last: s[0].Value}
	for _, x := range s {
		r.First, r.Last = min(r.First, x.Value), max(r.Last, x.Value)
	}
	if r.Last-r.First >= maxSpan {
		return r, fmt.Errorf("%s: values %d to %d: span too large (counter restarted?)", name, r.First, r.Last)
	}
	first := make([]int32, r.Last-r.First+1) // index+1 of each value's first copy
	var high uint64
	for i, x := range s {
		off := x.Value - r.First
		if j := first[off]; j != 0 {
			r.addDup(s[j-1], x)
			continue
		}
		first[off] = int32(i + 1)
		r.Distinct++
		if i > 0 && x.Value < high {
			r.Reorders = append(r.Reorders, [2]uint64{x.Value, high})
		}
		high = max(high, x.Value)
	}
	r.findGaps(s, first)
	return r, nil
}

func (r *NodeReport) addDup(first, again Sample) {
	r.Dups = append(r.Dups, Dup{First: first, Again: again})
	if first.Seq != again.Seq {
		r.SeqMismatch++
	}
}

// findGaps lists the runs of values that have no first copy.
func (r *NodeReport) findGaps(s []Sample, first []int32) {
	prev := 0 // index+1 of the last value seen
	for off, j := range first {
		if j == 0 {
			continue
		}
		if prev != 0 && off > 0 && first[off-1] == 0 {
			g := Gap{After: s[prev-1], Before: s[j-1]}
			r.Gaps = append(r.Gaps, g)
			r.Lost += g.Lost()
		}
		prev = int(j)
	}
}

// SeqGaps returns the seqs between the smallest and the largest seq of the
// samples keep accepts (nil keeps all, of every name) that no sample
// carries, as [from, to] ranges. With the buffer's seqs dense from 1, a gap
// is a committed reading that never arrived (or one the buffer dropped).
func (c *Consumer) SeqGaps(keep func(Sample) bool) (lo, hi uint64, gaps [][2]uint64) {
	seqs := c.seqs(keep)
	if len(seqs) == 0 {
		return 0, 0, nil
	}
	return seqs[0], seqs[len(seqs)-1], gapsOf(seqs)
}

// Seqs returns the distinct seqs of every sample recorded, in order.
func (c *Consumer) Seqs() []uint64 { return c.seqs(nil) }

func (c *Consumer) seqs(keep func(Sample) bool) []uint64 {
	var seqs []uint64
	for _, n := range c.Names() {
		for _, x := range c.Samples(n) {
			if keep == nil || keep(x) {
				seqs = append(seqs, x.Seq)
			}
		}
	}
	slices.Sort(seqs)
	return slices.Compact(seqs)
}

// gapsOf returns the runs missing between the first and the last of seqs,
// which are sorted and distinct.
func gapsOf(seqs []uint64) [][2]uint64 {
	var gaps [][2]uint64
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			gaps = append(gaps, [2]uint64{seqs[i-1] + 1, seqs[i] - 1})
		}
	}
	return gaps
}

// CheckDense checks a bridge's committed sequence against what arrived.
// The buffer numbers everything it commits 1, 2, 3, … (readings and OEE
// records alike) and a seq is never reused, so every seq from 1 to lastSeq
// (the bridge's final last_seq) must be in one of sets — the seqs of the
// readings, and those of the OEE records recorded apart from their own
// topic — except exactly excused of them: the entries the bridge counted as
// dropped (buffer full) or rejected (too large for a message), which it
// deletes unsent. No seq may lie above lastSeq. A reading lost before its
// commit (a kill -9 within the commit interval) never had a seq: it is no
// gap here. It returns nil, or an error that names the first gaps.
func CheckDense(lastSeq, excused uint64, sets ...[]uint64) error {
	var all []uint64
	for _, s := range sets {
		all = append(all, s...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) > 0 && all[0] == 0 {
		return errors.New("seq 0 arrived; the buffer numbers from 1")
	}
	if len(all) > 0 && all[len(all)-1] > lastSeq {
		return fmt.Errorf("seq %d arrived, above the last seq %d the bridge committed", all[len(all)-1], lastSeq)
	}
	gaps := gapsOf(append([]uint64{0}, append(all, lastSeq+1)...))
	var missing uint64
	for _, g := range gaps {
		missing += g[1] - g[0] + 1
	}
	if missing != excused {
		return fmt.Errorf("%d of seqs 1..%d missing in %d runs %v, want %d (dropped or rejected by the bridge)",
			missing, lastSeq, len(gaps), gaps[:min(len(gaps), 5)], excused)
	}
	return nil
}

// String summarises the analysis with the first few problems.
func (a Analysis) String() string {
	var b strings.Builder
	recv, distinct := 0, 0
	for _, r := range a.Nodes {
		recv += r.Received
		distinct += r.Distinct
	}
	fmt.Fprintf(&b, "%d nodes: %d readings received, %d distinct, %d lost, %d duplicates (%d with another seq), %d reordered",
		len(a.Nodes), recv, distinct, a.Lost, a.Dups, a.SeqMismatch, a.Reorders)
	if len(a.Missing) > 0 {
		fmt.Fprintf(&b, "; no readings of %v", a.Missing)
	}
	if a.Err != nil {
		fmt.Fprintf(&b, "; %v", a.Err)
	}
	shown := 0
	for _, r := range a.Nodes {
		for _, g := range r.Gaps {
			if shown < 5 {
				fmt.Fprintf(&b, "\n  %s: %d lost after value %d (seq %d) before %d (seq %d)",
					r.Name, g.Lost(), g.After.Value, g.After.Seq, g.Before.Value, g.Before.Seq)
			}
			shown++
		}
		for _, o := range r.Reorders {
			if shown < 5 {
				fmt.Fprintf(&b, "\n  %s: value %d arrived after %d", r.Name, o[0], o[1])
			}
			shown++
		}
	}
	return b.String()
}
