package oee_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// handTolerance is how far an engine figure may be from a hand-worked one
// written as a decimal (worked to four decimals: half the last digit).
// Integers (counts, whole seconds written without a point) must match.
const handTolerance = 0.00005

// handCase is a golden case's expected.toml: figures worked out by hand in
// its README.md, independently of the engine. Keys of Want are the record's
// JSON field names, "losses.breakdown.s" reaching into objects; "null"
// wants an undefined figure.
type handCase struct {
	Records []struct {
		Kind, Station, Start string
		Want                 map[string]any
	}
}

// checkHandFigures compares the hand-worked figures of dir with the
// closed records got (JSON lines). Every case must have them: the want.jsonl
// snapshot only catches change, not error.
func checkHandFigures(t *testing.T, dir, got string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Errorf("no README.md working out the figures: %v", err)
	}
	var hc handCase
	if _, err := toml.DecodeFile(filepath.Join(dir, "expected.toml"), &hc); err != nil || len(hc.Records) == 0 {
		t.Errorf("expected.toml with the hand-worked figures: %v (%d records)", err, len(hc.Records))
		return
	}
	recs := decodeRecords(t, got)
	for _, want := range hc.Records {
		name := fmt.Sprintf("%s %q %s", want.Kind, want.Station, want.Start)
		i := slices.IndexFunc(recs, func(r map[string]any) bool {
			st, _ := r["station"].(string)
			return r["kind"] == want.Kind && st == want.Station && r["start"] == want.Start
		})
		if i < 0 {
			t.Errorf("%s: no such record", name)
			continue
		}
		for key, w := range want.Want {
			if msg := compareHand(lookup(recs[i], key), w); msg != "" {
				t.Errorf("%s: %s %s", name, key, msg)
			}
		}
	}
}

func decodeRecords(t *testing.T, lines string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("record %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// lookup follows a dotted key into nested objects; "reasons.0.code" indexes arrays.
func lookup(m any, key string) any {
	for _, k := range strings.Split(key, ".") {
		switch v := m.(type) {
		case map[string]any:
			m = v[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(v) {
				return "(missing)"
			}
			m = v[i]
		default:
			return "(missing)"
		}
	}
	return m
}

// compareHand returns "" when got matches the hand figure want.
func compareHand(got, want any) string {
	switch w := want.(type) {
	case string:
		if w == "null" && got == nil || got == w {
			return ""
		}
	case int64:
		if g, ok := got.(float64); ok && g == float64(w) {
			return ""
		}
	case float64:
		if g, ok := got.(float64); ok && math.Abs(g-w) <= handTolerance {
			return ""
		}
	case bool:
		if got == w {
			return ""
		}
	case []any:
		if fmt.Sprint(got) == fmt.Sprint(w) {
			return ""
		}
	default:
		return fmt.Sprintf("has a hand figure of type %T", want)
	}
	return fmt.Sprintf("= %v, worked by hand: %v", got, want)
}
