package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
)

// The reload tests run two simulators' load counters at reloadRate through
// a bridge and change its config while it runs.
const (
	reloadNodes    = 200 // per server before the reload
	reloadRate     = 10  // changes per second of every load node
	reloadBridgeID = "reload"
	// reloadSlack is how far from the reload a removed node's last or an
	// added node's first value may be: a publishing interval or two, and
	// the value current when an item is created.
	reloadSlack = time.Second
	// reloadAfter is how long the counters run on after the reload.
	reloadAfter = 3 * time.Second
)

// reloadApplied is the message the bridge logs when it applied a changed
// configuration; a loose match, the start of the msg. The message for an
// unchanged one ("config reloaded: nothing changed…") is not it.
const reloadApplied = `"msg":"config reloaded`

// TestReloadUnderLoad is the proof that a reload applies only the
// difference: under load on two servers, SIGHUP with a config that changes
// only server a's nodes (removes some, adds some, changes the sampling
// interval or queue of some, moves some to another subscription by their
// publishing interval, renames one). From the servers' and the broker's
// side, neither session nor the broker connection was re-established; every
// node's values are complete across the reload (consumer.AuditReload) and
// the committed sequence is dense.
func TestReloadUnderLoad(t *testing.T) {
	start := time.Now()
	rig := startReloadRig(t, reloadNodes+20)
	before := []reloadServer{
		{name: "a", endpoint: rig.a.Endpoint, nodes: loadNodeRange(0, reloadNodes)},
		{name: "b", endpoint: rig.b.Endpoint, nodes: loadNodeRange(0, reloadNodes)},
	}
	after := []reloadServer{before[0], before[1]}
	after[0].nodes = reloadedNodes()
	rig.run(before)

	rig.batchDelay = "50ms" // a publisher setting too: applied on the same connection
	w := rig.reload(after)
	if !strings.Contains(w.line, reloadApplied) || strings.Contains(w.line, "nothing changed") {
		t.Fatalf("the changed config was not applied (want a line with %s): %s", reloadApplied, w.line)
	}
	rig.runOn(after, w.To)
	rig.stopAndAudit(reloadPlan(before, after), w.ReloadWindow)
	rig.checkNeverReconnected()
	logs := rig.br.Logs()
	if !strings.Contains(logs, `"msg":"publisher settings updated"`) || !strings.Contains(logs, "max_batch_delay") ||
		strings.Contains(logs, "reconnecting") {
		t.Errorf("the publisher's new batch delay is not logged as applied without a reconnect\n%s", rig.br.LogTail())
	}
	t.Logf("wall time %v", time.Since(start).Round(time.Millisecond))
}

// TestReloadInvalidUnderLoad: a config file with a problem changes
// nothing, though it also removes nodes: every node runs on with every
// value, on the same session and broker connection. Restarting the bridge
// afterwards shows that the server-side counts do see a new session and
// connection.
func TestReloadInvalidUnderLoad(t *testing.T) {
	rig := startReloadRig(t, 50)
	cfg := []reloadServer{
		{name: "a", endpoint: rig.a.Endpoint, nodes: loadNodeRange(0, 50)},
		{name: "b", endpoint: rig.b.Endpoint, nodes: loadNodeRange(0, 50)},
	}
	rig.run(cfg)
	broken := []reloadServer{cfg[0], cfg[1]}
	broken[0].nodes = loadNodeRange(10, 50)
	broken[1].extra = "bogus = 1\n" // an unknown key: the file is invalid
	w := rig.reload(broken)
	if !strings.Contains(w.line, `"msg":"config not reloaded`) {
		t.Fatalf("an invalid config was not refused: %s", w.line)
	}
	rig.runOn(cfg, w.To)
	rig.stopAndAudit(reloadPlan(cfg, cfg), w.ReloadWindow)
	rig.checkNeverReconnected()

	rig.write(cfg)
	rig.br.Start()
	testenv.Wait(t, 60*time.Second, "a second session on each server and a second broker connection", func() bool {
		return rig.a.Sessions(t).Created == 2 && rig.b.Sessions(t).Created == 2 &&
			rig.broker.Connections(rig.clientID()) == 2
	})
}

// reloadRig is the reload tests' two simulators, broker, consumer and
// bridge, and the bridge's config file.
type reloadRig struct {
	t       *testing.T
	a, b    *testenv.Simulator
	broker  *testenv.Mosquitto
	cons    *consumer.Consumer
	br      *testenv.Bridge
	path    string // the config file
	dataDir string
	// batchDelay is [mqtt].max_batch_delay; "" = 20ms.
	batchDelay string
}

// startReloadRig starts two simulators of loadNodes load nodes each, the
// broker and the consumer; run starts the bridge.
func startReloadRig(t *testing.T, loadNodes int) *reloadRig {
	opts := testenv.SimOptions{LoadNodes: loadNodes, Rate: reloadRate, LogSessions: true}
	r := &reloadRig{t: t, a: testenv.StartSimulator(t, opts), b: testenv.StartSimulator(t, opts),
		broker: testenv.StartMosquitto(t), dataDir: t.TempDir()}
	r.path = filepath.Join(t.TempDir(), "bridge.toml")
	r.cons = consumer.Start(t, r.broker.URL, consumer.Options{Topic: "fb/" + reloadBridgeID + "/#"})
	return r
}

func (r *reloadRig) clientID() string { return "factorybridge-" + reloadBridgeID }

// run starts the bridge on servers and waits until every node has values
// of two seconds.
func (r *reloadRig) run(servers []reloadServer) {
	r.t.Helper()
	r.write(servers)
	r.br = testenv.StartBridge(r.t, r.path)
	names := readingNames(servers)
	testenv.Wait(r.t, 60*time.Second, fmt.Sprintf("%d values of each of %d nodes", 2*reloadRate, len(names)), func() bool {
		return r.cons.MinCount(names) >= 2*reloadRate
	})
}

// reloadWindow is a reload's window and the bridge's answer to it.
type reloadWindow struct {
	consumer.ReloadWindow
	line string // the bridge's log line saying what it did
}

// reload writes servers as the config and sends SIGHUP; it returns when
// the bridge has said what it made of it.
func (r *reloadRig) reload(servers []reloadServer) reloadWindow {
	r.t.Helper()
	r.write(servers)
	r.br.Mark()
	w := reloadWindow{ReloadWindow: consumer.ReloadWindow{From: time.Now(), Slack: reloadSlack}}
	if err := syscall.Kill(r.br.PID(), syscall.SIGHUP); err != nil {
		r.t.Fatal(err)
	}
	w.line = r.br.WaitLogFunc(r.t, func(line string) bool {
		return strings.Contains(line, `"msg":"config re`) || strings.Contains(line, `"msg":"config not`)
	}, 30*time.Second, "the outcome of the reload")
	w.To = time.Now()
	return w
}

// runOn waits until every node of servers has a value from reloadAfter
// after the reload.
func (r *reloadRig) runOn(servers []reloadServer, reloaded time.Time) {
	r.t.Helper()
	until := reloaded.Add(reloadAfter).UnixMilli()
	names := readingNames(servers)
	testenv.Wait(r.t, 60*time.Second, fmt.Sprintf("values of every node %v after the reload", reloadAfter), func() bool {
		for _, n := range names {
			if s, ok := r.cons.Last(n); !ok || s.Source < until {
				return false
			}
		}
		return true
	})
}

// stopAndAudit stops the bridge with its buffer drained and checks what
// arrived: no bad message, a dense sequence, every node's values as plan
// says.
func (r *reloadRig) stopAndAudit(plan []consumer.ReloadNode, w consumer.ReloadWindow) {
	r.t.Helper()
	lastSeq := r.br.StopDrained(r.t)
	checkDense(r.t, lastSeq, 0, r.cons.Seqs)
	if n, errs := r.cons.Errors(); n > 0 {
		r.t.Errorf("%d bad messages or readings: %v", n, errs)
	}
	problems := r.cons.AuditReload(plan, w)
	if len(problems) > 0 {
		r.t.Errorf("%d problems in the per-node audit across the reload %v; the first:\n  %s",
			len(problems), w, strings.Join(problems[:min(len(problems), 20)], "\n  "))
	}
	kept, _, _, _ := r.cons.Totals()
	r.t.Logf("%d readings of %d nodes audited, last seq %d", kept, len(plan), lastSeq)
}

// checkNeverReconnected checks, from the servers' and the broker's side,
// that the bridge opened one channel and one session on each server and
// connected once to the broker.
func (r *reloadRig) checkNeverReconnected() {
	r.t.Helper()
	for name, sim := range map[string]*testenv.Simulator{"a": r.a, "b": r.b} {
		if got := sim.Sessions(r.t); got.Channels != 1 || got.Created != 1 || got.Activated != 1 {
			r.t.Errorf("server %s saw %+v; want one channel, one session activated once\n%s", name, got, sim.LogTail())
		}
	}
	if got := r.broker.Connections(r.clientID()); got != 1 {
		r.t.Errorf("the broker accepted %d connections from %s, want 1", got, r.clientID())
	}
}

// write writes the config for servers, replacing the file at once so that
// the bridge never reads half of it.
func (r *reloadRig) write(servers []reloadServer) {
	r.t.Helper()
	tmp := r.path + ".new"
	if err := os.WriteFile(tmp, []byte(reloadConfigFile(r.dataDir, r.broker.URL, cmp.Or(r.batchDelay, "20ms"), servers)), 0o600); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		r.t.Fatal(err)
	}
}

// reloadServer is one server of the reload tests' config, with one line
// of the same name and one station "counters".
type reloadServer struct {
	name, endpoint string
	nodes          []reloadNode
	extra          string // more lines of the [[servers]] table
}

// reloadNode is one load node of the config: its name, load.<index>, and
// its own settings where they differ from the server's.
type reloadNode struct {
	name       string
	index      int
	sampling   time.Duration // 0: the server's, 0s
	queue      int           // 0: the server's, 2000
	publishing time.Duration // 0: the server's, 50ms
}

// loadNodeRange returns the nodes n<i> of load.<i> for i in [from, to).
func loadNodeRange(from, to int) []reloadNode {
	var out []reloadNode
	for i := from; i < to; i++ {
		out = append(out, reloadNode{name: fmt.Sprintf("n%d", i), index: i})
	}
	return out
}

// reloadedNodes is server a's nodes after the reload: n0–n19 removed,
// n200–n219 added, n20–n29 sampled every 5 ms (cyclic instead of on every
// write; at 10 changes/s that still sees every value), n30–n39 with a
// smaller queue, n40–n59 moved to a subscription of their own by a
// publishing interval of 200 ms, n60 renamed r60.
func reloadedNodes() []reloadNode {
	nodes := loadNodeRange(20, reloadNodes+20)
	for i := range nodes {
		n := &nodes[i]
		switch {
		case n.index < 30:
			n.sampling = 5 * time.Millisecond
		case n.index < 40:
			n.queue = 500
		case n.index < 60:
			n.publishing = 200 * time.Millisecond
		case n.index == 60:
			n.name = "r60"
		}
	}
	return nodes
}

// readingNames returns the reading names of every node of servers.
func readingNames(servers []reloadServer) []string {
	var names []string
	for _, s := range servers {
		for _, n := range s.nodes {
			names = append(names, s.name+"/counters/"+n.name)
		}
	}
	return names
}

// reloadPlan pairs the nodes before and after a reload by server and load
// node: the audit's view of what the reload did to each.
func reloadPlan(before, after []reloadServer) []consumer.ReloadNode {
	type key struct {
		server string
		index  int
	}
	plan := map[key]*consumer.ReloadNode{}
	var order []key
	node := func(s reloadServer, n reloadNode) *consumer.ReloadNode {
		k := key{s.name, n.index}
		if plan[k] == nil {
			plan[k] = &consumer.ReloadNode{}
			order = append(order, k)
		}
		return plan[k]
	}
	for _, s := range before {
		for _, n := range s.nodes {
			node(s, n).Before = s.name + "/counters/" + n.name
		}
	}
	for _, s := range after {
		for _, n := range s.nodes {
			node(s, n).After = s.name + "/counters/" + n.name
		}
	}
	out := make([]consumer.ReloadNode, len(order))
	for i, k := range order {
		out[i] = *plan[k]
	}
	return out
}

// reloadConfigFile is the bridge's config for servers: sampling "0s", so
// that every change of a counter is a reading.
func reloadConfigFile(dataDir, broker, batchDelay string, servers []reloadServer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[bridge]\nid = %q\ndata_dir = %q\n\n[buffer]\ncommit_interval = \"20ms\"\n\n", reloadBridgeID, dataDir)
	fmt.Fprintf(&b, "[mqtt]\nbroker = %q\ntopic = \"fb/{bridge}/{line}/{station}\"\nmax_batch_delay = %q\n", broker, batchDelay)
	for _, s := range servers {
		fmt.Fprintf(&b, "\n[[servers]]\nname = %q\nendpoint = %q\n", s.name, s.endpoint)
		b.WriteString("publishing_interval = \"50ms\"\nsampling_interval = \"0s\"\nqueue_size = 2000\n" + s.extra)
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "\n[[lines]]\nname = %q\n\n[[lines.stations]]\nname = \"counters\"\nserver = %q\n", s.name, s.name)
		for _, n := range s.nodes {
			writeReloadNode(&b, n)
		}
	}
	return b.String()
}

func writeReloadNode(b *strings.Builder, n reloadNode) {
	fmt.Fprintf(b, "\n[[lines.stations.nodes]]\nname = %q\nid = \"nsu=urn:factorybridge:load;s=load.%d\"\n", n.name, n.index)
	if n.sampling > 0 {
		fmt.Fprintf(b, "sampling_interval = %q\n", n.sampling.String())
	}
	if n.queue > 0 {
		fmt.Fprintf(b, "queue_size = %d\n", n.queue)
	}
	if n.publishing > 0 {
		fmt.Fprintf(b, "publishing_interval = %q\n", n.publishing.String())
	}
}
