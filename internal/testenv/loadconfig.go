package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// LoadConfig describes a bridge config that subscribes to the simulator's
// load counters. Zero fields take the values noted; the bridge's own
// defaults apply where a field is left out of the file.
type LoadConfig struct {
	// Endpoint is the OPC UA server of the load nodes, named "sim". Required.
	Endpoint string
	// Broker is the MQTT broker URL. Required.
	Broker string
	// Nodes is how many load nodes (load.0 … load.<Nodes-1>) to subscribe
	// to, named "load/counters/n<i>" (LoadNodeName).
	Nodes int
	// BridgeID is bridge.id; "" = "e2e". Topics are fb/<id>/<line>/<station>.
	BridgeID string
	// DataDir holds the buffer file; "" = a new t.TempDir(). Keep it to
	// restart a bridge on the same buffer.
	DataDir string
	// CommitInterval is buffer.commit_interval; 0 = 20 ms.
	CommitInterval time.Duration
	// MaxBytes is buffer.max_bytes; 0 = the bridge's default.
	MaxBytes int64
	// MaxInflight is mqtt.max_inflight; 0 = the bridge's default.
	MaxInflight int
	// MaxMessageBytes is mqtt.max_message_bytes; 0 = the bridge's default.
	MaxMessageBytes int
	// Encoding is mqtt.encoding; "" = the bridge's default.
	Encoding string
	// Protocol is mqtt.protocol; "" = the bridge's default.
	Protocol string
	// BatchDelay is mqtt.max_batch_delay; 0 = 20 ms.
	BatchDelay time.Duration
	// PublishingInterval of every server; 0 = 50 ms. Sampling is "0s", so
	// every change of a counter is a reading.
	PublishingInterval time.Duration
	// QueueSize of every monitored item; 0 = 2000.
	QueueSize int
	// RequestTimeout of every server; 0 = the bridge's default.
	RequestTimeout time.Duration
	// Extra are more servers, each with its own line.
	Extra []ExtraServer
	// IoTHub, when set, is the body of an [iothub] table that replaces
	// Broker: the bridge publishes to IoT Hub (Broker is then ignored).
	IoTHub string
}

// ExtraServer is one more [[servers]] entry of a LoadConfig. Its nodes are
// named "<Name>/counters/n<i>".
type ExtraServer struct {
	Name     string
	Endpoint string
	// NodeIDs are the OPC UA node ids to subscribe to; nil = LoadNodeIDs(1).
	NodeIDs []string
}

// LoadNodeName is the reading name of load node i of the "sim" server.
func LoadNodeName(i int) string { return fmt.Sprintf("load/counters/n%d", i) }

// LoadNodeIDs returns the node ids of the simulator's first n load nodes.
func LoadNodeIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("nsu=urn:factorybridge:load;s=load.%d", i)
	}
	return ids
}

// WriteLoadConfig writes c as a config file in a new t.TempDir() and
// returns its path.
func WriteLoadConfig(t testing.TB, c LoadConfig) string {
	t.Helper()
	if c.DataDir == "" {
		c.DataDir = t.TempDir()
	}
	var b strings.Builder
	c.writeHead(&b)
	c.writeServer(&b, "sim", c.Endpoint)
	for _, x := range c.Extra {
		c.writeServer(&b, x.Name, x.Endpoint)
	}
	writeLine(&b, "load", "sim", LoadNodeIDs(c.Nodes))
	for _, x := range c.Extra {
		ids := x.NodeIDs
		if ids == nil {
			ids = LoadNodeIDs(1)
		}
		writeLine(&b, x.Name, x.Name, ids)
	}
	path := filepath.Join(t.TempDir(), "bridge.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("write bridge config: %v", err)
	}
	return path
}

func (c LoadConfig) writeHead(b *strings.Builder) {
	fmt.Fprintf(b, "[bridge]\nid = %q\ndata_dir = %q\n\n", or(c.BridgeID, "e2e"), c.DataDir)
	fmt.Fprintf(b, "[buffer]\ncommit_interval = %q\n", or(c.CommitInterval, 20*time.Millisecond).String())
	if c.MaxBytes > 0 {
		fmt.Fprintf(b, "max_bytes = %d\n", c.MaxBytes)
	}
	if c.IoTHub != "" {
		fmt.Fprintf(b, "\n[iothub]\n%s\n\n[mqtt]\n", c.IoTHub)
	} else {
		fmt.Fprintf(b, "\n[mqtt]\nbroker = %q\ntopic = \"fb/{bridge}/{line}/{station}\"\n", c.Broker)
	}
	fmt.Fprintf(b, "max_batch_delay = %q\n", or(c.BatchDelay, 20*time.Millisecond).String())
	if c.MaxInflight > 0 {
		fmt.Fprintf(b, "max_inflight = %d\n", c.MaxInflight)
	}
	if c.MaxMessageBytes > 0 {
		fmt.Fprintf(b, "max_message_bytes = %d\n", c.MaxMessageBytes)
	}
	if c.Encoding != "" {
		fmt.Fprintf(b, "encoding = %q\n", c.Encoding)
	}
	if c.Protocol != "" {
		fmt.Fprintf(b, "protocol = %q\n", c.Protocol)
	}
}

func (c LoadConfig) writeServer(b *strings.Builder, name, endpoint string) {
	fmt.Fprintf(b, "\n[[servers]]\nname = %q\nendpoint = %q\n", name, endpoint)
	fmt.Fprintf(b, "publishing_interval = %q\nsampling_interval = \"0s\"\nqueue_size = %d\n",
		or(c.PublishingInterval, 50*time.Millisecond).String(), or(c.QueueSize, 2000))
	if c.RequestTimeout > 0 {
		fmt.Fprintf(b, "request_timeout = %q\n", c.RequestTimeout.String())
	}
}

func writeLine(b *strings.Builder, line, server string, ids []string) {
	fmt.Fprintf(b, "\n[[lines]]\nname = %q\n\n[[lines.stations]]\nname = \"counters\"\nserver = %q\n", line, server)
	for i, id := range ids {
		fmt.Fprintf(b, "\n[[lines.stations.nodes]]\nname = \"n%d\"\nid = %q\n", i, id)
	}
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
