package bridge

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"factorybridge/config"
	"factorybridge/internal/testenv"
	"factorybridge/opcua"
)

// TestApplyServersWhileRunning adds a server to a running bridge, changes
// the other's connection settings, and removes it, in process under the
// race detector: each server's session comes and goes as the change says,
// seen from the servers' side, and the status follows the configuration.
func TestApplyServersWhileRunning(t *testing.T) {
	a := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 2, Rate: 10, LogSessions: true})
	bsim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 2, Rate: 10, LogSessions: true})
	broker := testenv.StartMosquitto(t)
	dir := t.TempDir()
	write := func(extra []testenv.ExtraServer) *config.Config {
		path := testenv.WriteLoadConfig(t, testenv.LoadConfig{Endpoint: a.Endpoint, Broker: broker.URL, Nodes: 2,
			DataDir: dir, Extra: extra})
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	logs := &testenv.Logs{}
	br, err := New(write(nil), Options{Logger: logs.Logger(), HTTPListen: config.Off})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	connected := func(name string) func() bool {
		return func() bool {
			for _, s := range br.servers() {
				if st := s.client.Stats(); s.name == name && st.State == opcua.StateConnected && st.Readings > 0 {
					return true
				}
			}
			return false
		}
	}
	testenv.Wait(t, 20*time.Second, "server sim connected", connected("sim"))

	apply := func(cfg *config.Config) {
		t.Helper()
		if changed, err := br.Apply(cfg); err != nil || len(changed) == 0 {
			t.Fatalf("Apply = %q, %v", changed, err)
		}
	}
	apply(write([]testenv.ExtraServer{{Name: "b", Endpoint: bsim.Endpoint}})) // b added
	testenv.Wait(t, 20*time.Second, "server b connected", connected("b"))
	if got := len(br.Report().Servers); got != 2 {
		t.Errorf("status lists %d servers after one was added, want 2", got)
	}
	if s := a.Sessions(t); s.Created != 1 {
		t.Errorf("sim saw %d sessions after another server was added, want 1 (kept)", s.Created)
	}

	cfg := write([]testenv.ExtraServer{{Name: "b", Endpoint: bsim.Endpoint}})
	text, _ := os.ReadFile(cfg.File)
	edit := func(s string) *config.Config {
		t.Helper()
		if err := os.WriteFile(cfg.File, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(cfg.File)
		if err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
		return c
	}
	slower := strings.Replace(string(text), "name = \"sim\"\n", "name = \"sim\"\nrequest_timeout = \"7s\"\n", 1)
	apply(edit(slower)) // sim's own settings changed: sim alone reconnects
	testenv.Wait(t, 20*time.Second, "sim reconnected", func() bool { return a.Sessions(t).Created == 2 && connected("sim")() })
	if s := bsim.Sessions(t); s.Created != 1 {
		t.Errorf("b saw %d sessions after the other server's settings changed, want 1", s.Created)
	}

	// sim removed: b alone, with its line
	only := slower[:strings.Index(slower, "[[servers]]")] + slower[strings.Index(slower, "[[servers]]\nname = \"b\""):]
	only = only[:strings.Index(only, "[[lines]]")] + only[strings.LastIndex(only, "[[lines]]"):]
	cfgB := edit(only)
	apply(cfgB)
	testenv.Wait(t, 10*time.Second, "sim's session closed", func() bool { return a.Sessions(t).Closed == 2 })
	if got := br.Report().Servers; len(got) != 1 || got[0].Name != "b" {
		t.Errorf("status lists %+v after sim was removed, want b alone", got)
	}
	if s := bsim.Sessions(t); s.Created != 1 {
		t.Errorf("b saw %d sessions after sim was removed, want 1", s.Created)
	}
	if !logs.Contains(`"msg":"server stopped","server":"sim","why":"removed from the configuration"`) {
		t.Errorf("the removal is not logged:\n%s", logs.String())
	}
}
