package demo

import (
	"path/filepath"
	"testing"
	"time"
)

func TestConfigValidates(t *testing.T) {
	dir := t.TempDir()
	cfg := Config("opc.tcp://127.0.0.1:4840", "tcp://127.0.0.1:1883", dir)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("demo config does not validate:\n%v", err)
	}
	if got, want := cfg.Buffer.Path, filepath.Join(dir, "buffer.db"); got != want {
		t.Errorf("buffer path %q, want %q (defaults applied)", got, want)
	}
}

func TestConfigNodes(t *testing.T) {
	cfg := Config("opc.tcp://127.0.0.1:4840", "tcp://127.0.0.1:1883", t.TempDir())
	refs := cfg.Nodes("")
	if len(refs) != 25 {
		t.Fatalf("%d nodes, want 25 (8 per station + assembly Pressure)", len(refs))
	}
	seen := map[string]bool{}
	for _, r := range refs {
		want := "demo/line1/" + r.Station + "/" + r.Node.Name
		if r.Name != want || seen[r.Name] {
			t.Errorf("reading name %q (duplicate: %v), want %q once", r.Name, seen[r.Name], want)
		}
		seen[r.Name] = true
		if r.Server != DemoServerName || r.Node.PublishingInterval.D() != 200*time.Millisecond {
			t.Errorf("%s: server %q, publishing interval %v", r.Name, r.Server, r.Node.PublishingInterval.D())
		}
		if wantID := "nsu=" + NamespaceURI + ";s=" + NodeID(r.Station, r.Node.Name); r.Node.ID != wantID {
			t.Errorf("%s: id %q, want %q", r.Name, r.Node.ID, wantID)
		}
	}
}
