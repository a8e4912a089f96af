package consumer

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// ReloadNode is one load node of a reload audit, by its reading names
// before and after the reload. Both set: the reload kept the node (under
// the same name, or renamed it), whatever else it changed of it. Before
// only: the reload removed it. After only: the reload added it.
type ReloadNode struct {
	Before, After string
}

// ReloadWindow is when a reload happened, on the wall clock of the load
// counters' source timestamps: it began no earlier than From (the SIGHUP
// was sent) and was applied by To (the bridge said so). Slack widens it on
// both sides by what may lie between a value's source timestamp and the
// moment the bridge changed its item: a publishing interval, and for an
// added item the value already current when it was created.
type ReloadWindow struct {
	From, To time.Time
	Slack    time.Duration
}

func (w ReloadWindow) holds(t time.Time) bool {
	return !t.Before(w.From.Add(-w.Slack)) && !t.After(w.To.Add(w.Slack))
}

// AuditReload checks the load counters of nodes across a reload and
// returns the problems found, nil when there are none. Every node's
// samples, in the order of their seqs, must have no gap, no value twice
// (a resend under its own seq included) and no value after a larger one;
// beyond that, by what the reload did to the node:
//   - kept: it has values before From and after To+Slack, so it ran
//     through the reload; renamed, every value under the old name is below
//     every value under the new one;
//   - removed: it has values before From, and its last value's source
//     timestamp lies in the window: a prefix of the counter ending at the
//     reload;
//   - added: its first value's source timestamp lies in the window and it
//     has values after To+Slack: a suffix of the counter from the reload.
//
// A name recorded that no node names is a problem too: readings published
// under a name the configuration never had, or a stale one.
func (c *Consumer) AuditReload(nodes []ReloadNode, w ReloadWindow) []string {
	var problems []string
	known := map[string]bool{}
	for _, n := range nodes {
		known[n.Before], known[n.After] = true, true
		problems = append(problems, c.auditReloadNode(n, w)...)
	}
	for _, name := range slices.Sorted(slices.Values(c.Names())) {
		if !known[name] {
			problems = append(problems, fmt.Sprintf("%s: %d readings under a name no node has", name, c.Count(name)))
		}
	}
	return problems
}

func (c *Consumer) auditReloadNode(n ReloadNode, w ReloadWindow) []string {
	label, s := c.reloadSamples(n)
	if len(s) == 0 {
		return []string{label + ": no readings"}
	}
	r, err := analyzeNode(label, s)
	if err != nil {
		return []string{err.Error()}
	}
	problems := streamProblems(r)
	first, last := sourceTime(s[0]), sourceTime(s[len(s)-1])
	if n.Before != "" && !first.Before(w.From) {
		problems = append(problems, fmt.Sprintf("%s: first value %d at %s, not before the reload", label, s[0].Value, stamp(first)))
	}
	switch {
	case n.Before != "" && n.After != "":
		problems = append(problems, c.renameProblems(n, label)...)
	case n.Before != "" && !w.holds(last):
		problems = append(problems, fmt.Sprintf("%s: last value %d at %s, outside the reload %s", label, s[len(s)-1].Value, stamp(last), w))
	case n.After != "" && !w.holds(first):
		problems = append(problems, fmt.Sprintf("%s: first value %d at %s, outside the reload %s", label, s[0].Value, stamp(first), w))
	}
	if n.After != "" && !last.After(w.To.Add(w.Slack)) {
		problems = append(problems, fmt.Sprintf("%s: last value %d at %s, not after the reload %s", label, s[len(s)-1].Value, stamp(last), w))
	}
	return problems
}

// reloadSamples returns a node's label for problems and its samples under
// both its names, ordered by seq: the order the bridge committed them in.
func (c *Consumer) reloadSamples(n ReloadNode) (string, []Sample) {
	var label string
	var s []Sample
	switch {
	case n.After == "":
		label, s = n.Before+" (removed)", c.Samples(n.Before)
	case n.Before == "":
		label, s = n.After+" (added)", c.Samples(n.After)
	case n.Before == n.After:
		label, s = n.Before+" (kept)", c.Samples(n.Before)
	default:
		label, s = n.Before+" renamed "+n.After, append(c.Samples(n.Before), c.Samples(n.After)...)
	}
	slices.SortStableFunc(s, func(a, b Sample) int { return cmp.Compare(a.Seq, b.Seq) })
	return label, s
}

// renameProblems checks that a renamed node's old name carries values
// only up to where the new one's begin.
func (c *Consumer) renameProblems(n ReloadNode, label string) []string {
	if n.Before == n.After {
		return nil
	}
	before, after := c.Samples(n.Before), c.Samples(n.After)
	if len(before) == 0 || len(after) == 0 {
		return []string{fmt.Sprintf("%s: %d readings under the old name, %d under the new one; want both", label, len(before), len(after))}
	}
	hi := slices.MaxFunc(before, byValue).Value
	lo := slices.MinFunc(after, byValue).Value
	if hi >= lo {
		return []string{fmt.Sprintf("%s: value %d under the old name, %d already under the new one", label, hi, lo)}
	}
	return nil
}

func byValue(a, b Sample) int { return cmp.Compare(a.Value, b.Value) }

// streamProblems lists the gaps, duplicates and reorders of one node.
func streamProblems(r NodeReport) []string {
	var out []string
	for _, g := range r.Gaps {
		out = append(out, fmt.Sprintf("%s: %d lost after value %d (seq %d) before %d (seq %d)",
			r.Name, g.Lost(), g.After.Value, g.After.Seq, g.Before.Value, g.Before.Seq))
	}
	for _, d := range r.Dups {
		how := "resent under its seq"
		if d.Again.Seq != d.First.Seq {
			how = "duplicated under a new seq"
		}
		out = append(out, fmt.Sprintf("%s: value %d (seq %d) %s %d", r.Name, d.First.Value, d.First.Seq, how, d.Again.Seq))
	}
	for _, o := range r.Reorders {
		out = append(out, fmt.Sprintf("%s: value %d committed after %d", r.Name, o[0], o[1]))
	}
	return out
}

func sourceTime(s Sample) time.Time { return time.UnixMilli(s.Source) }

func stamp(t time.Time) string { return t.UTC().Format("15:04:05.000") }

// String shows the window as From–To ±Slack.
func (w ReloadWindow) String() string {
	return fmt.Sprintf("%s–%s ±%s", stamp(w.From), stamp(w.To), w.Slack)
}
