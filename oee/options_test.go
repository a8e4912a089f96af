package oee

import (
	"strings"
	"testing"
	"time"
)

// minimal is one line with one station counting parts without a state node.
func minimal() Options {
	return Options{Lines: []Line{{Name: "l", Stations: []Station{{
		Name: "s", Server: "plc", IdealCycleTime: time.Second,
		Roles: Roles{TotalCount: "l/s/Count", FaultTime: "l/s/Fault"},
	}}}}}
}

// TestZeroOptionsAreDefaults: zero settings take the documented defaults.
func TestZeroOptionsAreDefaults(t *testing.T) {
	e, err := New(minimal())
	if err != nil {
		t.Fatal(err)
	}
	l, s := e.lines[0], e.lines[0].stations[0]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"window", l.window, int64(DefaultWindow)}, {"interval", l.interval, int64(DefaultInterval)},
		{"iso", l.iso, false}, {"unknown as unplanned", l.unknownUS, false}, {"output", l.output, 0},
		{"zone", l.cal.loc, time.UTC}, {"shifts", len(l.cal.shifts), 1},
		{"unit", s.unit, int64(time.Second)}, {"factor", s.factor, DefaultPlausibility},
		{"small stop", s.smallStop, int64(0)}, {"counter bits", s.S.Counters[1].bits, uint8(64)},
		{"ring", len(s.S.Ring), 60 + ringSlack},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !e.Observes("l/s/Count") || !e.Observes("l/s/Fault") || e.Observes("l/s/Other") {
		t.Error("Observes does not follow the roles")
	}
}

// TestNewRejects: New refuses settings it cannot compute with, naming them.
func TestNewRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Line)
		want   string
	}{
		{"no station", func(l *Line) { l.Stations = nil }, "no station"},
		{"convention", func(l *Line) { l.Convention = "toyota" }, `convention "toyota"`},
		{"unknown", func(l *Line) { l.Unknown = "ignore" }, `policy "ignore"`},
		{"window", func(l *Line) { l.Window = 90 * time.Second }, "window 1m30s"},
		{"output", func(l *Line) { l.Output = "x" }, `output "x"`},
		{"zone", func(l *Line) { l.Calendar = &Calendar{Zone: "Mars/Olympus"} }, "Mars/Olympus"},
		{"clock", func(l *Line) { l.Calendar = &Calendar{Shifts: []Shift{{Name: "a", End: 24 * 60}}} }, "shift a: clock"},
		{"day", func(l *Line) {
			l.Calendar = &Calendar{Shifts: []Shift{{Name: "a"}}, Breaks: []TimeWindow{{Days: []time.Weekday{7}}}}
		}, "weekday 7"},
		{"preset", func(l *Line) { l.Stations[0].Preset = "isa95" }, `station s: unknown preset "isa95"`},
		{"bucket", func(l *Line) { l.Stations[0].States = map[int64]Bucket{3: 9} }, "state 3"},
		{"counter", func(l *Line) { l.Stations[0].Counters.TotalCount = "int8" }, `counter type "int8"`},
	}
	for _, tt := range tests {
		opts := minimal()
		tt.change(&opts.Lines[0])
		_, err := New(opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New() = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in   string
		want Clock
		ok   bool
	}{
		{"00:00", 0, true}, {"06:30", 390, true}, {"23:59", 1439, true},
		{"24:00", 0, false}, {"6:30", 0, false}, {"06:30:00", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseClock(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseClock(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && got.String() != tt.in {
			t.Errorf("Clock(%d).String() = %q, want %q", got, got.String(), tt.in)
		}
	}
}
