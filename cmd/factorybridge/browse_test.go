package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"factorybridge/config"
	"factorybridge/internal/testenv"
	"factorybridge/pki"
)

// nodemapCLI runs the CLI in-process; it is this file's and import_test's
// own, so that they do not depend on helpers other tests may change.
func nodemapCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// nodemapLoad loads a written node map with config.Load (which validates
// it) and fails the test with its problems.
func nodemapLoad(t *testing.T, file string) *config.Config {
	t.Helper()
	cfg, err := config.Load(file)
	if err != nil {
		text, _ := os.ReadFile(file)
		t.Fatalf("load %s: %v\n%s", file, err, text)
	}
	return cfg
}

// stationVarNames are the Connected Factory station variables in the
// simulator's order (testdata/simulator/README.md); only assembly has
// Pressure, after EnergyConsumption.
var stationVarNames = []string{"NumberOfManufacturedProducts", "NumberOfDiscardedProducts", "ProductSerialNumber",
	"FaultyTime", "Status", "EnergyConsumption", "Pressure", "IdealCycleTime", "ActualCycleTime", "StopReason"}

// wantLineNodes are the documented station nodes of the simulator's line,
// as a node map names them: station → node name → id (or path).
func wantLineNodes(paths bool) map[string]map[string]string {
	want := map[string]map[string]string{}
	for _, st := range []string{"assembly", "test", "packaging"} {
		want[st] = map[string]string{}
		for _, v := range stationVarNames {
			if v == "Pressure" && st != "assembly" {
				continue
			}
			want[st][v] = "nsu=http://opcfoundation.org/UA/Station/;s=" + st + "." + v
			if paths {
				want[st][v] = "Objects/nsu=http://opcfoundation.org/UA/Station/;FactoryLine/" + st + "/" + v
			}
		}
	}
	return want
}

// lineNodes returns the nodes of a loaded config's line as wantLineNodes.
func lineNodes(cfg *config.Config, line string) map[string]map[string]string {
	got := map[string]map[string]string{}
	for _, l := range cfg.Lines {
		if l.Name != line {
			continue
		}
		for _, st := range l.Stations {
			got[st.Name] = map[string]string{}
			for _, n := range st.Nodes {
				got[st.Name][n.Name] = n.ID + n.Path
			}
		}
	}
	return got
}

// TestBrowseConnectedFactory browses the simulator's line from a bare
// endpoint: the file written is a complete config that validates, and its
// nodes are the documented ones, by id and (with -paths) by browse path.
func TestBrowseConnectedFactory(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 10})
	for _, paths := range []bool{false, true} {
		t.Run(fmt.Sprintf("paths=%v", paths), func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "plant.toml")
			args := []string{"browse", "-endpoint", sim.Endpoint, "-start", "Objects/FactoryLine", "-o", file}
			if paths {
				args = append(args, "-paths")
			}
			_, stderr, err := nodemapCLI(t, args...)
			if err != nil {
				t.Fatalf("browse: %v\n%s", err, stderr)
			}
			if !strings.Contains(stderr, "28 variables in 3 stations") {
				t.Errorf("stderr %q lacks the summary", stderr)
			}
			cfg := nodemapLoad(t, file)
			if got, want := lineNodes(cfg, "line1"), wantLineNodes(paths); !reflect.DeepEqual(got, want) {
				t.Errorf("nodes\n%v\nwant\n%v", got, want)
			}
			if cfg.Servers[0].Endpoint != sim.Endpoint {
				t.Errorf("server %+v", cfg.Servers[0])
			}
		})
	}
}

// TestBrowseLoadNodes browses 30,000 load nodes (a folder continued with
// BrowseNext many times) to stdout: every one is in the map exactly once.
func TestBrowseLoadNodes(t *testing.T) {
	const n = 30000
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: n, Rate: 1})
	out, stderr, err := nodemapCLI(t, "browse", "-endpoint", sim.Endpoint, "-match", "Objects/Load/*", "-q")
	if err != nil {
		t.Fatalf("browse: %v\n%s", err, stderr)
	}
	file := filepath.Join(t.TempDir(), "load.toml")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := nodemapLoad(t, file)
	seen := make([]int, n)
	for _, ref := range cfg.Nodes("") {
		var i int
		if _, err := fmt.Sscanf(ref.Node.ID, "nsu=urn:factorybridge:load;s=load.%d", &i); err != nil || i < 0 || i >= n {
			t.Fatalf("unexpected node %+v", ref)
		}
		seen[i]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Errorf("load.%d in the map %d times", i, c)
		}
	}
}

// TestBrowseConfiguredSecureServer browses a server of a config with its
// security and PKI: refused while the server's certificate is not trusted
// (the bridge's own check), then, once trusted, a [[lines]] section that
// validates appended to the config.
func TestBrowseConfiguredSecureServer(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "bridge.toml")
	writeCfg := func(endpoint string) {
		cfg := fmt.Sprintf("[bridge]\nid = \"b\"\ndata_dir = %q\n[mqtt]\nbroker = \"tcp://127.0.0.1:1883\"\n"+
			"[[servers]]\nname = \"plc\"\nendpoint = %q\nsecurity_policy = \"Basic256Sha256\"\nsecurity_mode = \"SignAndEncrypt\"\nrequest_timeout = \"5s\"\n"+
			"[[lines]]\nname = \"line1\"\n[[lines.stations]]\nname = \"s\"\nnodes = [{ name = \"n\", id = \"i=2258\" }]\n",
			filepath.Join(dir, "data"), endpoint)
		if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("opc.tcp://127.0.0.1:4840")
	out, stderr, err := nodemapCLI(t, "pki", "init", "-config", cfgFile)
	if err != nil {
		t.Fatalf("pki init: %v %s", err, stderr)
	}
	own, err := os.ReadFile(strings.TrimSpace(strings.TrimPrefix(strings.Split(out, "\n")[0], "certificate:")))
	if err != nil {
		t.Fatal(err)
	}
	sec := testenv.SimSecurity{TrustDir: t.TempDir()}
	var serverCert *x509.Certificate
	sec.Cert, sec.Key, serverCert = testenv.WriteServerCert(t, t.TempDir(), testenv.ServerCert{})
	if err := os.WriteFile(filepath.Join(sec.TrustDir, "bridge.der"), own, 0o644); err != nil {
		t.Fatal(err)
	}
	writeCfg(testenv.StartSimulator(t, testenv.SimOptions{Secure: &sec}).Endpoint)

	browse := []string{"browse", "-config", cfgFile, "-server", "plc", "-start", "Objects/FactoryLine", "-q"}
	if _, stderr, err := nodemapCLI(t, browse...); err == nil || !strings.Contains(err.Error()+stderr, "trust") {
		t.Fatalf("browse of an untrusted server: %v\n%s; want a refusal that says how to trust it", err, stderr)
	}
	// The operator trusts the certificate by the thumbprint checked with the
	// server's operator (the refusal logged it).
	if _, stderr, err := nodemapCLI(t, "trust", "-config", cfgFile, pki.Thumbprint(serverCert.Raw)); err != nil {
		t.Fatalf("trust: %v %s", err, stderr)
	}
	frag, stderr, err := nodemapCLI(t, browse...)
	if err != nil {
		t.Fatalf("browse: %v\n%s", err, stderr)
	}
	f, err := os.OpenFile(cfgFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(frag)
	f.Close()
	cfg := nodemapLoad(t, cfgFile)
	if got, want := lineNodes(cfg, "line2"), wantLineNodes(false); !reflect.DeepEqual(got, want) {
		t.Errorf("appended line\n%v\nwant\n%v", got, want)
	}
	for _, st := range cfg.Lines[1].Stations {
		if st.Server != "plc" {
			t.Errorf("station %s server %q, want plc", st.Name, st.Server)
		}
	}
}

// TestBrowseUsage checks that bad flag combinations are usage errors that
// say what to give, and that -h explains both ways to connect.
func TestBrowseUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"browse"}, "give -endpoint URL, or -config FILE with -server NAME"},
		{[]string{"browse", "-endpoint", "opc.tcp://x:1", "-config", "c.toml"}, "give -endpoint URL, or -config FILE"},
		{[]string{"browse", "-config", "c.toml"}, "-config needs -server NAME"},
		{[]string{"browse", "-config", "c.toml", "-server", "p", "-o", "c.toml"}, "would overwrite the config"},
	}
	for _, tt := range tests {
		_, stderr, err := nodemapCLI(t, tt.args...)
		if err == nil || !strings.Contains(stderr, tt.want) || exitCode(err, &bytes.Buffer{}) != 2 {
			t.Errorf("%v: %v, stderr %q; want exit 2 and %q", tt.args, err, stderr, tt.want)
		}
	}
	_, stderr, _ := nodemapCLI(t, "browse", "-h")
	for _, s := range []string{"-endpoint URL", "-config FILE -server N", "security None", "-paths", "-max-nodes", "factorybridge validate"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("browse -h lacks %q", s)
		}
	}
}
