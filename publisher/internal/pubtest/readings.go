package pubtest

import (
	"fmt"
	"math"
	"time"

	"factorybridge"
)

// Node is one simulated OPC UA node.
type Node struct {
	Name, ID, Server, Line, Station string
	Value                           func(i int) factorybridge.Value
}

// Nodes returns n nodes on 3 lines × 2 stations with assorted types.
func Nodes(n int) []Node {
	values := []func(int) factorybridge.Value{
		func(i int) factorybridge.Value {
			return factorybridge.FloatValue(factorybridge.TypeDouble, float64(i)/3)
		},
		func(i int) factorybridge.Value { return factorybridge.IntValue(factorybridge.TypeInt32, int64(i%7-3)) },
		func(i int) factorybridge.Value { return factorybridge.BoolValue(i%2 == 0) },
		func(i int) factorybridge.Value {
			return factorybridge.TextValue(factorybridge.TypeString, fmt.Sprintf("state \"%d\"", i%5))
		},
		func(i int) factorybridge.Value {
			return factorybridge.UintValue(factorybridge.TypeUInt64, math.MaxUint64-uint64(i))
		},
		func(i int) factorybridge.Value {
			return factorybridge.ArrayValue(factorybridge.TypeFloat, []factorybridge.Value{
				factorybridge.FloatValue(factorybridge.TypeFloat, float64(float32(i))), factorybridge.FloatValue(factorybridge.TypeFloat, 0.5)})
		},
	}
	out := make([]Node, n)
	for i := range out {
		line, station := fmt.Sprintf("line%d", i%3), fmt.Sprintf("st%d", i%2)
		out[i] = Node{
			Name: fmt.Sprintf("munich/%s/%s/n%d", line, station, i), ID: fmt.Sprintf("ns=2;s=N%d", i),
			Server: "plc1", Line: line, Station: station, Value: values[i%len(values)],
		}
	}
	return out
}

// Readings returns count readings cycling over nodes, with millisecond
// timestamps (what the compact encoding keeps) and an occasional bad status.
func Readings(nodes []Node, count int) []factorybridge.Reading {
	base := time.Date(2024, 11, 28, 6, 0, 0, 0, time.UTC)
	out := make([]factorybridge.Reading, count)
	for i := range out {
		n := nodes[i%len(nodes)]
		src := base.Add(time.Duration(i) * time.Millisecond)
		out[i] = factorybridge.Reading{
			Name: n.Name, NodeID: n.ID, Server: n.Server, Line: n.Line, Station: n.Station,
			Value: n.Value(i), SourceTime: src, ServerTime: src.Add(time.Millisecond),
		}
		if i%97 == 0 {
			out[i].Status = 0x80000000 // Bad
		}
	}
	return out
}

// WithSeqs returns rs with Seq set to 1…len, as MemQueue assigns them.
func WithSeqs(rs []factorybridge.Reading) []factorybridge.Reading {
	out := append([]factorybridge.Reading(nil), rs...)
	for i := range out {
		out[i].Seq = uint64(i + 1)
	}
	return out
}
