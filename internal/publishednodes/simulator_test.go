package publishednodes

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"factorybridge"
	"factorybridge/config"
	"factorybridge/internal/testenv"
	"factorybridge/opcua"
)

// goodNames is a Sink that keeps the names of nodes that gave a Good value.
type goodNames struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (g *goodNames) Append(ctx context.Context, rs []factorybridge.Reading) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range rs {
		if r.IsGood() && r.Value.Type != factorybridge.TypeNull {
			g.seen[r.Name] = true
		}
	}
	return ctx.Err()
}

func (g *goodNames) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}

// TestImportedMapRunsAgainstSimulator imports a file that addresses the
// open62541 simulator's nodes in every form OPC Publisher knows (nsu= Id,
// ExpandedNodeId, Uri form, BrowsePath from the Root and from Objects, the
// legacy NodeId) and subscribes to the resulting map: every node delivers.
func TestImportedMapRunsAgainstSimulator(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{Speed: 10})
	data, err := os.ReadFile("testdata/simulator.json")
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte("opc.tcp://127.0.0.1:4840"), []byte(sim.Endpoint))
	res, err := Convert("simulator.json", data, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := config.WriteNodeMap(&out, res.Map); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("imported.toml", out.Bytes(), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	opts, ok := cfg.OPCUAOptions(cfg.Servers[0].Name)
	if !ok || len(opts.Nodes) != 6 {
		t.Fatalf("options %+v", opts)
	}
	sink := &goodNames{seen: map[string]bool{}}
	opts.Sink, opts.RequestTimeout = sink, 5*time.Second
	c, err := opcua.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	testenv.Wait(t, 20*time.Second, "a Good value of each of the 6 imported nodes", func() bool { return sink.count() == 6 })
	if len(res.Issues) != 2 || !strings.Contains(res.Issues[0].Msg, "0 not mapped") || !strings.Contains(res.Issues[1].Msg, "skip-first") {
		t.Errorf("issues %v, want the sampling interval 0 and SkipFirst", issueStrings(res.Issues))
	}
}
