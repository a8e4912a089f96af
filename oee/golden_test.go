package oee_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"factorybridge/oee"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/want.jsonl from the current output")

// event is one line of a golden case's input.txt, expanded.
type event struct {
	at   time.Time
	verb string // read, bad, disconnect, connect, restart, tick
	args []string
}

// TestGolden runs each testdata/golden/<case>: config.toml (lines only; the
// bridge, broker and server are prepended), input.txt, and want.jsonl with
// every closed record. The input is also run ignoring its restarts, which
// must not change the output. The key figures must match those worked out
// by hand in the case's README.md and expected.toml (hand_test.go).
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/golden/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, err := os.ReadFile(filepath.Join(dir, "config.toml"))
			if err != nil {
				t.Fatal(err)
			}
			events := readEvents(t, filepath.Join(dir, "input.txt"))
			got := runGolden(t, string(cfg), events, true)
			defer checkHandFigures(t, dir, got)
			if plain := runGolden(t, string(cfg), events, false); plain != got {
				t.Errorf("a restart changed the output:\nwith:\n%s\nwithout:\n%s", got, plain)
			}
			wantFile := filepath.Join(dir, "want.jsonl")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("read want.jsonl (go test -update creates it): %v", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// runGolden feeds the events in time order with a tick every minute and
// returns the closed records, one JSON object a line.
func runGolden(t *testing.T, cfgText string, events []event, restarts bool) string {
	opts := parseConfig(t, cfgText)
	e := newEngine(t, opts)
	line := opts.Lines[0].Name
	var out bytes.Buffer
	emit := func(recs []oee.Record) {
		for _, r := range closed(recs) {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(append(b, '\n'))
		}
	}
	for _, ev := range events {
		switch ev.verb {
		case "read", "bad":
			r := reading(line, ev.args[0], ev.args[1], ev.at, parseValue(ev.args[2]))
			if ev.verb == "bad" {
				r.Status = 0x80000000
			}
			e.Observe(&r)
		case "disconnect":
			e.Disconnected(line, ev.args[0], ev.at)
		case "connect":
			e.Connected(line, ev.args[0], ev.at)
		case "tick":
			emit(e.Tick(ev.at, nil))
		case "restart":
			if restarts {
				e = restart(t, opts, e)
			}
		}
	}
	return out.String()
}

// restart saves the engine's state and restores it into a new engine, as
// the bridge does across a process restart.
func restart(t *testing.T, opts oee.Options, e *oee.Engine) *oee.Engine {
	state, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	fresh := newEngine(t, opts)
	if err := fresh.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	return fresh
}

// readEvents parses input.txt: "TIME VERB ARGS…" lines, where
// "TIME count STATION NODE FROM STEP EVERY UNTIL" expands to readings
// FROM, FROM+STEP, … every EVERY before UNTIL. Ticks are added every
// minute from the first event to the last; events are sorted by time,
// stably, so a tick at the time of a reading comes after it.
func readEvents(t *testing.T, file string) []event {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		at := mustTime(t, fields[0])
		if fields[1] == "count" {
			evs = append(evs, expandCount(t, at, fields[2:])...)
			continue
		}
		evs = append(evs, event{at: at, verb: fields[1], args: fields[2:]})
	}
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	slices.SortStableFunc(evs, func(a, b event) int { return a.at.Compare(b.at) })
	first, last := evs[0].at, evs[len(evs)-1].at
	for tk := first.Truncate(time.Minute); !tk.After(last); tk = tk.Add(time.Minute) {
		evs = append(evs, event{at: tk, verb: "tick"})
	}
	slices.SortStableFunc(evs, func(a, b event) int { return a.at.Compare(b.at) })
	return evs
}

func expandCount(t *testing.T, at time.Time, a []string) []event {
	if len(a) != 6 {
		t.Fatalf("count wants STATION NODE FROM STEP EVERY UNTIL, got %v", a)
	}
	from, err1 := strconv.ParseInt(a[2], 10, 64)
	step, err2 := strconv.ParseInt(a[3], 10, 64)
	every, err3 := time.ParseDuration(a[4])
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("bad count %v", a)
	}
	until := mustTime(t, a[5])
	var evs []event
	for v := from; at.Before(until); at, v = at.Add(every), v+step {
		evs = append(evs, event{at: at, verb: "read", args: []string{a[0], a[1], strconv.FormatInt(v, 10)}})
	}
	return evs
}
