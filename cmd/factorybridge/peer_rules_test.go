package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"factorybridge/config"
)

// telegrafJSON renders metrics as Telegraf's json serializer does
// (plugins/serializers/json): encoding/json of a map per metric, one metric
// per message or a {"metrics":[…]} batch, and a newline.
func telegrafJSON(t testing.TB, batch bool, metrics ...map[string]any) []byte {
	t.Helper()
	var v any = metrics[0]
	if batch {
		v = map[string]any{"metrics": metrics}
	}
	p, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return append(p, '\n')
}

func opcuaMetric(field string, value any, tags map[string]string) map[string]any {
	return map[string]any{
		"name": "opcua_listener", "tags": tags, "timestamp": 1733440000,
		"fields": map[string]any{field: value, "Quality": "The operation succeeded."},
	}
}

func TestTelegrafReadings(t *testing.T) {
	host := map[string]string{"host": "edge-1", "id": "ns=2;s=load.7"}
	odd := map[string]string{"host": `a"fields":{"b`, "id": "fields"}
	tests := []struct {
		name string
		p    []byte
		want int
	}{
		{"one metric (non-batch)", telegrafJSON(t, false, opcuaMetric("n7", 42, host)), 1},
		{"batch of three", telegrafJSON(t, true, opcuaMetric("n1", 1, host), opcuaMetric("n2", 2.5, host), opcuaMetric("n3", true, host)), 3},
		{"value dropped (NaN): Quality only", []byte(`{"fields":{"Quality":"Bad"},"name":"opcua_listener","tags":{},"timestamp":1}` + "\n"), 1},
		{"array value unpacked: still one reading", telegrafJSON(t, false, opcuaMetric("n[0]", 1, host)), 1},
		{`"fields":{ inside strings`, telegrafJSON(t, false, opcuaMetric("fields", `{"fields":{"x":1}}`, odd)), 1},
		{"empty batch", []byte(`{"metrics":[]}`), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := telegrafReadings(tt.p); got != uint64(tt.want) {
				t.Errorf("telegrafReadings = %d, want %d in %s", got, tt.want, tt.p)
			}
			got, err := telegrafReadingsDecoded(tt.p)
			if tt.want == 0 {
				if err == nil {
					t.Errorf("telegrafReadingsDecoded = %d, want an error for no metric", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("telegrafReadingsDecoded = %d, %v, want %d", got, err, tt.want)
			}
		})
	}
}

// FuzzTelegrafReadings checks the counter's byte-sequence count against a
// JSON decode on metrics whose names, tags and string values are arbitrary.
func FuzzTelegrafReadings(f *testing.F) {
	f.Add("n0", "edge-1", "ok", uint8(0))
	f.Add(`"fields":{`, `"fields":{"`, `\"fields\":{`, uint8(3))
	f.Add("fields", "fields", "}{", uint8(1))
	f.Fuzz(func(t *testing.T, field, tag, value string, n uint8) {
		count := 1 + int(n%5)
		metrics := make([]map[string]any, count)
		for i := range metrics {
			metrics[i] = opcuaMetric(field, value, map[string]string{"host": tag, tag: value})
			metrics[i]["fields"].(map[string]any)[value] = i
		}
		p := telegrafJSON(t, count > 1 || n >= 128, metrics...)
		if got := telegrafReadings(p); got != uint64(count) {
			t.Errorf("telegrafReadings = %d, want %d in %s", got, count, p)
		}
		if got, err := telegrafReadingsDecoded(p); err != nil || got != count {
			t.Errorf("telegrafReadingsDecoded = %d, %v, want %d in %s", got, err, count, p)
		}
	})
}

// telegrafConf is the part of Telegraf's config TestTelegrafConfig reads.
type telegrafConf struct {
	Outputs struct {
		MQTT []struct {
			Servers    []string `toml:"servers"`
			Topic      string   `toml:"topic"`
			DataFormat string   `toml:"data_format"`
			Layout     string   `toml:"layout"`
		} `toml:"mqtt"`
	} `toml:"outputs"`
	Inputs struct {
		OPCUA []struct {
			Endpoint     string `toml:"endpoint"`
			Subscription string `toml:"subscription_interval"`
			Group        []struct {
				Namespace      string `toml:"namespace"`
				IdentifierType string `toml:"identifier_type"`
				Nodes          []struct {
					Name       string `toml:"name"`
					Identifier string `toml:"identifier"`
					Params     struct {
						Sampling string `toml:"sampling_interval"`
						Queue    int    `toml:"queue_size"`
					} `toml:"monitoring_params"`
				} `toml:"nodes"`
			} `toml:"group"`
		} `toml:"opcua_listener"`
	} `toml:"inputs"`
}

func TestTelegrafConfig(t *testing.T) {
	c := telegrafConfig{endpoint: "opc.tcp://127.0.0.1:4840", broker: "tcp://127.0.0.1:1883",
		nodes: 25, namespace: 3, sampling: "100ms", queue: 20, perInput: 10}
	var got telegrafConf
	md, err := toml.Decode(c.render(), &got)
	if err != nil {
		t.Fatalf("decode rendered config: %v", err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Errorf("keys the test does not check: %v", u)
	}
	out := got.Outputs.MQTT
	if len(out) != 1 || strings.Join(out[0].Servers, ",") != "127.0.0.1:1883" || out[0].DataFormat != "json" ||
		out[0].Topic != telegrafTopic || out[0].Layout != "" {
		t.Errorf("outputs.mqtt = %+v", out)
	}
	in := got.Inputs.OPCUA
	if len(in) != 3 {
		t.Fatalf("%d inputs.opcua_listener for 25 nodes, want 3 of at most 10", len(in))
	}
	next := 0
	for i, want := range []int{10, 10, 5} {
		if in[i].Endpoint != c.endpoint || in[i].Subscription != "100ms" || len(in[i].Group) != 1 {
			t.Fatalf("input %d = %s, %s, %d groups", i, in[i].Endpoint, in[i].Subscription, len(in[i].Group))
		}
		g := in[i].Group[0]
		if g.Namespace != "3" || g.IdentifierType != "s" || len(g.Nodes) != want {
			t.Fatalf("input %d: namespace %s, type %q, %d nodes, want %d", i, g.Namespace, g.IdentifierType, len(g.Nodes), want)
		}
		for _, n := range g.Nodes {
			if n.Identifier != "load."+strconv.Itoa(next) || n.Name != "n"+strconv.Itoa(next) || n.Params.Sampling != "100ms" || n.Params.Queue != 20 {
				t.Fatalf("node %d = %+v", next, n)
			}
			next++
		}
	}
}

// TestTelegrafConfigDefaults: inputs of 10,000 nodes (the simulator's
// per-call limit) by default; the layout written only when set.
func TestTelegrafConfigDefaults(t *testing.T) {
	c := telegrafConfig{endpoint: "opc.tcp://127.0.0.1:4840", broker: "tcp://127.0.0.1:1883", nodes: 10001, sampling: "0s", queue: 1}
	conf := c.render()
	if got := strings.Count(conf, "[[inputs.opcua_listener]]"); got != 2 {
		t.Errorf("%d inputs for 10,001 nodes, want 2", got)
	}
	if strings.Contains(conf, "layout") {
		t.Error("layout written without being set")
	}
	c.layout, c.nodes = "batch", 1
	if conf := c.render(); !strings.Contains(conf, "  layout = \"batch\"\n") {
		t.Errorf("layout batch missing:\n%s", conf)
	}
}

func TestPeerBridgeConfig(t *testing.T) {
	for _, sampling := range []string{"100ms", "0s"} {
		path := writePeerBridgeConfig(t, peerEnv{nodes: 3, endpoint: "opc.tcp://127.0.0.1:4840", broker: "tcp://127.0.0.1:1883"}, sampling)
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		srv, want := cfg.Servers[0], time.Duration(0)
		if sampling == "100ms" {
			want = 100 * time.Millisecond
		}
		if time.Duration(srv.SamplingInterval) != want || srv.QueueSize != 20 ||
			time.Duration(srv.PublishingInterval) != config.DefaultPublishingInterval ||
			time.Duration(cfg.MQTT.MaxBatchDelay) != config.DefaultMaxBatchDelay || cfg.MQTT.Topic != config.DefaultTopic {
			t.Errorf("sampling %s: server %+v, mqtt %+v", sampling, srv, cfg.MQTT)
		}
	}
}

func TestPrintPeerTable(t *testing.T) {
	rows := []peerRow{
		{nodes: 10000, rate: 10, program: "factorybridge", elapsed: 10 * time.Second, readings: 999_600,
			wire: 42_300_000, cpu: 3 * time.Second, rss: 106 << 20, peakRSS: 120 << 20},
		{nodes: 30000, rate: 10, program: "Telegraf 1.37.2", elapsed: 10 * time.Second, readings: 3_000_000,
			wire: 390_000_000, cpu: 30 * time.Second, rss: 884 << 20, peakRSS: 900 << 20,
			warnings: 2, firstWarning: "W! [outputs.mqtt] Metric buffer overflow"},
	}
	var b bytes.Buffer
	printPeerTable(&b, rows)
	want := `| N nodes | program | delivered of offered | CPU µs/reading | RSS | peak RSS | wire bytes/reading |
|---|---|---|---|---|---|---|
| 10,000 | factorybridge | 99.9 % | 3.00 | 106 MB | 120 MB | 42.3 |
| 30,000 | Telegraf 1.37.2 | 100.0 % | 10.00 | 884 MB | 900 MB | 130.0 |

Telegraf 1.37.2 at 30,000 nodes logged 2 warnings or errors; the first: W! [outputs.mqtt] Metric buffer overflow
`
	if got := b.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseNodeCounts(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		ok   bool
	}{
		{"10000 30000", []int{10000, 30000}, true},
		{"1000,3000", []int{1000, 3000}, true},
		{" 500 ", []int{500}, true},
		{"", nil, false},
		{"10k", nil, false},
		{"0", nil, false},
	}
	for _, tt := range tests {
		got, err := parseNodeCounts(tt.in)
		if (err == nil) != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("parseNodeCounts(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 30000: "30,000", 1234567: "1,234,567"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
}
