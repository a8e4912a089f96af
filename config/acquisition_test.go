package config

import (
	"context"
	"reflect"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/opcua"
)

const acquisitionTOML = `
bridge = { id = "b1", site = "munich" }
mqtt = { broker = "tcp://127.0.0.1:1883" }

[[servers]]
name = "plc"
endpoint = "opc.tcp://127.0.0.1:4840"
publishing_interval = "200ms"
heartbeat_interval = "10s"
backfill = true
backfill_max_values = 500
backfill_max_age = "2h"
backfill_timeout = "45s"

[[lines]]
name = "line1"

[[lines.stations]]
name = "press"
nodes = [
  { name = "a", id = "ns=2;s=A" },
  { name = "b", id = "ns=2;s=B", mode = "read", read_interval = "250ms", read_report = "change", heartbeat_interval = "0s", backfill = false, skip_first = true },
]

[lines.stations.events]
sources = ["i=2253", "nsu=urn:press;s=Press"]
fields = ["EventId", "Severity", "ConditionName"]
types = ["nsu=urn:press;s=JamEventType"]
condition_refresh = false
`

// TestAcquisitionOptions checks that a server's acquisition defaults reach
// its nodes, that nodes override them (heartbeat "0s" turns it off), and
// that a station's events become one source per notifier.
func TestAcquisitionOptions(t *testing.T) {
	c, err := Parse("c.toml", []byte(acquisitionTOML), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	o, ok := c.OPCUAOptions("plc")
	if !ok {
		t.Fatal("no server plc")
	}
	a, b := o.Nodes[0], o.Nodes[1]
	if a.Mode != opcua.ModeSubscribe || a.Heartbeat != 10*time.Second || !a.Backfill || a.SkipFirst || a.ReadInterval != 0 {
		t.Errorf("node a %+v: want the server's heartbeat and backfill, mode subscribe", a)
	}
	if b.Mode != opcua.ModeRead || b.ReadInterval != 250*time.Millisecond || b.ReadReport != opcua.ReportChange ||
		b.Heartbeat != 0 || b.Backfill || !b.SkipFirst {
		t.Errorf("node b %+v: want its own settings", b)
	}
	if want := (opcua.BackfillOptions{MaxValues: 500, MaxAge: 2 * time.Hour, Timeout: 45 * time.Second}); o.Backfill != want {
		t.Errorf("backfill %+v, want %+v", o.Backfill, want)
	}
	base := opcua.EventSource{Name: "munich/line1/press/events", Server: "plc", Line: "line1", Station: "press",
		Fields: []string{"EventId", "Severity", "ConditionName"}, Types: []string{"nsu=urn:press;s=JamEventType"},
		PublishingInterval: 200 * time.Millisecond}
	srv, press := base, base
	srv.ID, press.ID = "i=2253", "nsu=urn:press;s=Press"
	if want := []opcua.EventSource{srv, press}; !reflect.DeepEqual(o.Events, want) {
		t.Errorf("events\n got %+v\nwant %+v", o.Events, want)
	}
	if _, err := opcua.New(withSink(o)); err != nil {
		t.Errorf("opcua.New refuses the translated options: %v", err)
	}
}

// withSink gives options the sink New requires.
func withSink(o opcua.Options) opcua.Options {
	o.Sink = nopSink{}
	return o
}

type nopSink struct{}

func (nopSink) Append(context.Context, []fb.Reading) error { return nil }
