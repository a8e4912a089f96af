package config

import (
	"testing"
	"time"

	"factorybridge/buffer"
)

func TestBufferOptions(t *testing.T) {
	c, err := Parse("c.toml", []byte(`
bridge.id = "b"
bridge.data_dir = "/srv/fb"
mqtt.broker = "tcp://127.0.0.1:1883"
buffer.max_bytes = 2097152
buffer.commit_interval = "50ms"
[[servers]]
name = "plc"
endpoint = "opc.tcp://127.0.0.1:4840"
[[lines]]
name = "l"
[[lines.stations]]
name = "s"
nodes = [{ name = "x", id = "ns=1;s=x" }]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := c.BufferOptions()
	want := buffer.Options{Path: "/srv/fb/buffer.db", MaxBytes: 2 << 20, CommitInterval: 50 * time.Millisecond,
		CommitMaxReadings: buffer.DefaultCommitMaxReadings}
	if got.Path != want.Path || got.MaxBytes != want.MaxBytes || got.CommitInterval != want.CommitInterval ||
		got.CommitMaxReadings != want.CommitMaxReadings {
		t.Errorf("BufferOptions = %+v, want %+v", got, want)
	}
}
