package buffer

import (
	"fmt"
	"time"

	fb "factorybridge"
)

// loadReadings returns n readings cycling over nodes counters, like the
// simulator's load nodes: node i's k-th reading has the value k.
func loadReadings(n, nodes int) []fb.Reading {
	names := make([]string, nodes)
	ids := make([]string, nodes)
	for i := range names {
		names[i] = fmt.Sprintf("site/line1/load/n%d", i)
		ids[i] = fmt.Sprintf("ns=2;s=load.%d", i)
	}
	t0 := time.Now()
	rs := make([]fb.Reading, n)
	for i := range rs {
		node := i % nodes
		rs[i] = fb.Reading{Name: names[node], Server: "sim", Line: "line1", Station: "load", NodeID: ids[node],
			Value:      fb.UintValue(fb.TypeUInt64, uint64(i/nodes+1)),
			SourceTime: t0.Add(time.Duration(i) * time.Microsecond), ServerTime: t0.Add(time.Duration(i) * time.Microsecond)}
	}
	return rs
}
