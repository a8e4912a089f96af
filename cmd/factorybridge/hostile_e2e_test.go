package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopcua/opcua/ua"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/hostile"
)

// TestHostileE2EOtherServersKeepDelivering runs one bridge against the
// simulator and four hostile servers, each sending what crashed, exhausted
// or fooled gopcua v0.9.1 (issue 12, point 9): a malformed variant, an ACK
// announcing 2 GiB buffers, a session signature that does not verify, an
// endpoint list rewritten to strip encryption. The bridge keeps running,
// refuses each with its reason, sends no password, works with the server
// whose only fault is its ACK, and the simulator's data keeps flowing.
func TestHostileE2EOtherServersKeepDelivering(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 1, Rate: 20})
	negative := hostile.Start(t, hostile.Options{NegativeArray: true})
	hugeAck := hostile.Start(t, hostile.Options{HugeAck: true})
	badSig := hostile.Start(t, hostile.Options{Secure: true, BadSessionSignature: true})
	rewritten := hostile.Start(t, hostile.Options{Secure: true, RefuseActivation: true, RewriteEndpoints: stripEncryption})
	t.Setenv("FB_HOSTILE_PW", "hostile-Secr3t")
	cfg := writeHostileE2EConfig(t, testenv.StartMosquitto(t).URL, sim.Endpoint, map[string][2]string{
		"negative": {negative.Endpoint}, "hugeack": {hugeAck.Endpoint},
		"badsig": {badSig.Endpoint, "security_policy = \"Basic256Sha256\"\nsecurity_mode = \"SignAndEncrypt\""},
		"rewritten": {rewritten.Endpoint, "security_policy = \"auto\"\nsecurity_mode = \"auto\"\n" +
			"auth = \"username\"\nusername = \"operator\"\npassword_env = \"FB_HOSTILE_PW\""},
	})
	for _, srv := range []*hostile.Server{badSig, rewritten} {
		certFile := filepath.Join(t.TempDir(), "hostile.der")
		must(t, os.WriteFile(certFile, srv.Cert.Raw, 0o644))
		runOK(t, "trust", "-config", cfg, certFile)
	}
	br := testenv.StartBridge(t, cfg)
	wantDown := map[string]string{
		"negative": "StatusBadDecodingError", "badsig": "verify session signature", "rewritten": "server endpoints changed",
	}
	for server, reason := range wantDown {
		br.WaitLogFunc(t, func(line string) bool {
			e := entry(line)
			return e.Msg() == "server down" && e.Str("server") == server && strings.Contains(e.Str("err"), reason)
		}, e2eWait, fmt.Sprintf("server %s refused for %q", server, reason))
	}
	first := waitStatus(t, br, func(e testenv.LogEntry) bool { return e.Num("servers_connected") == 2 && e.Num("received") > 0 })
	br.Mark()
	later := waitStatus(t, br, func(e testenv.LogEntry) bool { return e.Num("received") > first.Num("received")+20 })
	if !br.Running() || later.Num("servers_connected") != 2 {
		t.Errorf("after the hostile servers: running %v, status %v; want running with sim and hugeack connected", br.Running(), later)
	}
	if rss := br.RSSAnon(); rss > 512<<20 {
		t.Errorf("the bridge holds %d MiB of heap: the huge ACK was believed", rss>>20)
	}
	if n := rewritten.Activations(); n != 0 {
		t.Errorf("the rewritten server saw %d ActivateSession requests: the password went out", n)
	}
	if strings.Contains(br.Logs(), "hostile-Secr3t") {
		t.Error("the password appears in the logs")
	}
}

// stripEncryption rewrites an endpoint list as a man in the middle would
// to make auto choose Sign: it drops the SignAndEncrypt endpoints.
func stripEncryption(eps []*ua.EndpointDescription) []*ua.EndpointDescription {
	var out []*ua.EndpointDescription
	for _, ep := range eps {
		if ep.SecurityMode != ua.MessageSecurityModeSignAndEncrypt {
			out = append(out, ep)
		}
	}
	return out
}

// waitStatus waits for a status line (after the mark) that satisfies ok.
func waitStatus(t *testing.T, br *testenv.Bridge, ok func(testenv.LogEntry) bool) testenv.LogEntry {
	t.Helper()
	return entry(br.WaitLogFunc(t, func(line string) bool {
		e := entry(line)
		return e.Msg() == "status" && ok(e)
	}, e2eWait, "a status line"))
}

// writeHostileE2EConfig writes a config with the simulator's server "sim"
// and one server per entry of hostiles (name → endpoint and further
// settings), each with one node.
func writeHostileE2EConfig(t *testing.T, broker, simEndpoint string, hostiles map[string][2]string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[bridge]\nid = \"hostile\"\ndata_dir = %q\n[mqtt]\nbroker = %q\n", t.TempDir(), broker)
	server := func(name, endpoint, settings, node string) {
		fmt.Fprintf(&b, "[[servers]]\nname = %q\nendpoint = %q\nrequest_timeout = \"2s\"\npublishing_interval = \"100ms\"\n%s\n",
			name, endpoint, settings)
		fmt.Fprintf(&b, "[[lines]]\nname = %q\n[[lines.stations]]\nname = \"s\"\nserver = %q\nnodes = [{ name = \"n\", id = %q }]\n", name, name, node)
	}
	server("sim", simEndpoint, "", testenv.LoadNodeIDs(1)[0])
	for name, s := range hostiles {
		server(name, s[0], s[1], "nsu="+hostile.NamespaceURI+";s="+hostile.Counter)
	}
	path := filepath.Join(t.TempDir(), "bridge.toml")
	must(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}
