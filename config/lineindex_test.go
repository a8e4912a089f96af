package config

import (
	"maps"
	"testing"
)

func TestIndexLines(t *testing.T) {
	text := `# comment
bridge.id = "b"          # 2
[mqtt]                   # 3
broker = "tcp://h:1"     # 4
"client_id" = "x"        # 5
[[servers]]              # 6
name = "a"               # 7
desc = """
name = "not a key"
"""
[[servers]]              # 11
name = "b"               # 12
[[lines]]                # 13
name = "l"               # 14
[[lines.stations]]       # 15
name = "s1"              # 16
nodes = [                # 17
  { name = "n1" },       # 18
  { name = "n2", x = [1, 2] }, { name = "n3" },
]
[[lines.stations]]       # 21
[[lines.stations.nodes]] # 22
id = "i=1"               # 23
[lines.stations.extra]   # 24
k = 1                    # 25
`
	want := lineIndex{
		"bridge": 2, "bridge.id": 2,
		"mqtt": 3, "mqtt.broker": 4, "mqtt.client_id": 5,
		"servers": 6, "servers[0]": 6, "servers[0].name": 7, "servers[0].desc": 8,
		"servers[1]": 11, "servers[1].name": 12,
		"lines": 13, "lines[0]": 13, "lines[0].name": 14,
		"lines[0].stations": 15, "lines[0].stations[0]": 15, "lines[0].stations[0].name": 16,
		"lines[0].stations[0].nodes":    17,
		"lines[0].stations[0].nodes[0]": 18, "lines[0].stations[0].nodes[1]": 19, "lines[0].stations[0].nodes[2]": 19,
		"lines[0].stations[1]":       21,
		"lines[0].stations[1].nodes": 22, "lines[0].stations[1].nodes[0]": 22, "lines[0].stations[1].nodes[0].id": 23,
		"lines[0].stations[1].extra": 24, "lines[0].stations[1].extra.k": 25,
	}
	got := indexLines(text)
	if !maps.Equal(got, want) {
		for k, v := range got {
			if want[k] != v {
				t.Errorf("%s: line %d, want %d", k, v, want[k])
			}
		}
		for k, v := range want {
			if _, ok := got[k]; !ok {
				t.Errorf("%s: missing, want line %d", k, v)
			}
		}
	}
	for path, line := range map[string]int{
		"lines[0].stations[0].nodes[1].id": 19, // inline table: its element's line
		"lines[0].stations[1].server":      21, // missing key: its table's header
		"servers[1].endpoint":              11,
		"nope":                             0,
	} {
		if got := got.find(path); got != line {
			t.Errorf("find(%s) = %d, want %d", path, got, line)
		}
	}
}
