package oee_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/config"
	"factorybridge/oee"
)

// header is prepended to every test configuration: one bridge, broker and
// server, so cases only write lines.
const header = `
bridge.id = "test"
[mqtt]
broker = "tcp://127.0.0.1:1883"
[[servers]]
name = "plc"
endpoint = "opc.tcp://127.0.0.1:4840"
`

// parseConfig parses a test configuration and returns what it says of OEE.
func parseConfig(tb testing.TB, lines string) oee.Options {
	tb.Helper()
	c, err := config.Parse("test.toml", []byte(header+lines), nil)
	if err != nil {
		tb.Fatalf("parse config: %v", err)
	}
	return c.OEEOptions()
}

func newEngine(tb testing.TB, opts oee.Options) *oee.Engine {
	tb.Helper()
	e, err := oee.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// reading builds a reading of line/station/node at t.
func reading(line, station, node string, t time.Time, v fb.Value) fb.Reading {
	return fb.Reading{Name: line + "/" + station + "/" + node, Line: line, Station: station, Value: v, SourceTime: t}
}

// parseValue reads "12" (UInt64), "-3" (Int64), "1.5" (Double) or "A" (String).
func parseValue(s string) fb.Value {
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return fb.UintValue(fb.TypeUInt64, u)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return fb.IntValue(fb.TypeInt64, i)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return fb.FloatValue(fb.TypeDouble, f)
	}
	return fb.TextValue(fb.TypeString, s)
}

func closed(recs []oee.Record) []oee.Record {
	var out []oee.Record
	for _, r := range recs {
		if r.Kind == oee.KindHour || r.Kind == oee.KindShift {
			out = append(out, r)
		}
	}
	return out
}

func find(tb testing.TB, recs []oee.Record, k oee.Kind, station string) oee.Record {
	tb.Helper()
	for _, r := range recs {
		if r.Kind == k && r.Station == station {
			return r
		}
	}
	tb.Fatalf("no %s record for station %q in %d records", k, station, len(recs))
	return oee.Record{}
}

func pct(r oee.Ratio) string {
	if !r.Defined {
		return "undefined"
	}
	return fmt.Sprintf("%.2f", r.Value*100)
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		tb.Fatal(err)
	}
	return t
}
