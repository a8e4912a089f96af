package consumer

import (
	"maps"
	"strings"
	"testing"
	"time"
)

// reloadBase is the source time of counter value 0 in these tests; value
// v has the source timestamp reloadBase + v × 100 ms, as at 10 changes/s.
var reloadBase = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// reloadWindow puts the reload between values 30 and 32, ±200 ms.
var reloadWindow = ReloadWindow{From: at(30), To: at(32), Slack: 200 * time.Millisecond}

func at(v uint64) time.Time { return reloadBase.Add(time.Duration(v) * 100 * time.Millisecond) }

// reloadNodes: k kept, old renamed new, rm removed, add added.
var reloadNodes = []ReloadNode{{"k", "k"}, {"old", "new"}, {Before: "rm"}, {After: "add"}}

// cleanReload is what a correct reload delivers of reloadNodes.
func cleanReload() map[string][]vs {
	return map[string][]vs{
		"k":   counting(1, 60, 1),
		"old": counting(1, 31, 100), "new": counting(32, 60, 131),
		"rm":  counting(1, 31, 200),
		"add": counting(31, 60, 300), // 31: the value current when the item was created
	}
}

// fedTimed is fed with source timestamps from the counter values.
func fedTimed(streams map[string][]vs) *Consumer {
	c := New(Options{})
	for name, s := range streams {
		for _, x := range s {
			c.nodes[name] = append(c.nodes[name], Sample{Value: x.value, Seq: x.seq, Source: at(x.value).UnixMilli()})
			c.total++
		}
	}
	return c
}

func TestAuditReloadClean(t *testing.T) {
	if p := fedTimed(cleanReload()).AuditReload(reloadNodes, reloadWindow); p != nil {
		t.Fatalf("a clean reload: %q", p)
	}
}

// TestAuditReloadCatches breaks one node's stream at a time: the audit
// names that node with the problem, and nothing else.
func TestAuditReloadCatches(t *testing.T) {
	tests := []struct {
		name    string
		streams map[string][]vs // replace those of cleanReload
		node    string          // every problem names it
		want    string          // one problem says it
	}{
		{"a gap in a kept node", map[string][]vs{"k": cat(counting(1, 20, 1), counting(22, 60, 21))}, "k (kept)", "1 lost after value 20"},
		{"a duplicate under a new seq", map[string][]vs{"k": cat(counting(1, 60, 1), []vs{{33, 61}})}, "k (kept)", "value 33 (seq 33) duplicated under a new seq 61"},
		{"a resend under its seq", map[string][]vs{"k": cat(counting(1, 60, 1), []vs{{33, 33}})}, "k (kept)", "resent under its seq"},
		{"out of order", map[string][]vs{"k": cat(counting(1, 40, 1), []vs{{42, 41}, {41, 42}}, counting(43, 60, 43))}, "k (kept)", "value 41 committed after 42"},
		{"a kept node that stopped at the reload", map[string][]vs{"k": counting(1, 31, 1)}, "k (kept)", "not after the reload"},
		{"a kept node that came only after it", map[string][]vs{"k": counting(31, 60, 1)}, "k (kept)", "not before the reload"},
		{"a kept node with no readings", map[string][]vs{"k": nil}, "k (kept)", "no readings"},
		{"a gap at the rename", map[string][]vs{"new": counting(33, 60, 132)}, "old renamed new", "1 lost after value 31"},
		{"both names after the rename", map[string][]vs{"old": counting(1, 34, 100), "new": counting(35, 60, 135)},
			"old renamed new", ""}, // no problem: the rename took effect late, but within the stream
		{"the old name after the new one", map[string][]vs{"old": cat(counting(1, 31, 100), []vs{{33, 190}}), "new": []vs{{32, 131}, {34, 191}}},
			"old renamed new", "value 33 under the old name, 32 already under the new one"},
		{"a removed node that resumes", map[string][]vs{"rm": cat(counting(1, 31, 200), counting(45, 60, 231))}, "rm (removed)", "13 lost after value 31"},
		{"a removed node that goes on", map[string][]vs{"rm": counting(1, 60, 200)}, "rm (removed)", "last value 60"},
		{"a removed node that stopped early", map[string][]vs{"rm": counting(1, 20, 200)}, "rm (removed)", "last value 20"},
		{"an added node from the start", map[string][]vs{"add": counting(1, 60, 300)}, "add (added)", "first value 1"},
		{"an added node with a gap", map[string][]vs{"add": cat(counting(31, 40, 300), counting(42, 60, 310))}, "add (added)", "1 lost after value 40"},
		{"an added node that re-sent its first value", map[string][]vs{"add": cat([]vs{{31, 300}}, counting(31, 60, 301))}, "add (added)", "value 31 (seq 300) duplicated under a new seq 301"},
		{"a stray name", map[string][]vs{"n9": counting(1, 5, 900)}, "n9", "a name no node has"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams := cleanReload()
			maps.Copy(streams, tt.streams)
			problems := fedTimed(streams).AuditReload(reloadNodes, reloadWindow)
			if tt.want == "" {
				if problems != nil {
					t.Fatalf("problems %q, want none", problems)
				}
				return
			}
			found := false
			for _, p := range problems {
				if !strings.HasPrefix(p, tt.node+":") {
					t.Errorf("problem %q is not about %s", p, tt.node)
				}
				found = found || strings.Contains(p, tt.want)
			}
			if !found {
				t.Errorf("problems %q, want one saying %q", problems, tt.want)
			}
		})
	}
}
