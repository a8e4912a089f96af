package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"factorybridge/bridge"
	"factorybridge/config"
	"factorybridge/opcua"
)

const browseHelp = `Browses a server's address space and prints a node map: TOML ready to validate
and run, so that no node id is typed by hand. Each variable found goes into the
station of its parent folder or object, named by browse names; ids name their
namespace by URI (nsu=…), so they survive namespace renumbering (-paths writes
browse paths instead, which also survive a PLC program renumbering its nodes).

Two ways to connect:
  -endpoint URL           a server without a config yet: security None and
                          anonymous unless -security-policy/-security-mode say
                          otherwise; the output is a complete config file
                          (edit [mqtt] broker, then validate and run it).
  -config FILE -server N  a configured server, with its security, credentials and
                          PKI (the certificates in the config's pki_dir); the
                          output is a [[lines]] section to append to FILE.

A newcomer's path:
  factorybridge browse -endpoint opc.tcp://plc:4840 -start Objects/Line1 -o plant.toml
  (edit plant.toml: names, drop what you do not need, the broker)
  factorybridge validate -config plant.toml
  factorybridge run -config plant.toml

Bounded: -depth levels below -start, at most -max-nodes nodes (the map says
when it stopped early), every call within the request timeout; progress goes
to stderr on large address spaces.`

// browseFlags are browse's flags.
type browseFlags struct {
	config, server, endpoint, out                string
	policy, mode, pkiDir, bridgeID, broker, line string
	start, match, classes, types                 string
	depth, maxNodes                              int
	paths, properties, tofu, quiet               bool
	timeout, requestTimeout                      time.Duration
}

func (f *browseFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "config `FILE` whose server to browse (with -server)")
	fs.StringVar(&f.server, "server", "", "with -config: the [[servers]] `name` to browse; with -endpoint: the name to give it (default plc)")
	fs.StringVar(&f.endpoint, "endpoint", "", "opc.tcp:// `URL` of a server without a config")
	fs.StringVar(&f.policy, "security-policy", "None", "with -endpoint: "+strings.Join(opcua.SecurityPolicies, ", "))
	fs.StringVar(&f.mode, "security-mode", "None", "with -endpoint: "+strings.Join(opcua.SecurityModes, ", "))
	fs.StringVar(&f.pkiDir, "pki-dir", "pki", "with -endpoint and security: `directory` of the client certificate (made once) and trusted/ server certificates")
	fs.BoolVar(&f.tofu, "trust-on-first-use", false, "with -endpoint and security: trust the server's certificate unchecked (commissioning only)")
	fs.StringVar(&f.start, "start", opcua.DefaultBrowseStart, "browse path to browse below, e.g. Objects/FactoryLine")
	fs.IntVar(&f.depth, "depth", opcua.DefaultBrowseDepth, "levels below -start")
	fs.IntVar(&f.maxNodes, "max-nodes", opcua.DefaultBrowseMaxNodes, "stop after this many nodes")
	fs.StringVar(&f.match, "match", "", "keep nodes whose browse path matches this `glob`: * within a name, ** across names (e.g. 'Objects/Line1/*/Status', '**/Temp*')")
	fs.StringVar(&f.classes, "class", "Variable", "node classes to list, comma separated: "+strings.Join(opcua.NodeClassNames, ", ")+" (only variables become nodes; others are listed as comments)")
	fs.StringVar(&f.types, "type", "", "keep only variables of these data types, comma separated (e.g. Double,UInt64)")
	fs.BoolVar(&f.properties, "properties", false, "also list properties (EURange, EngineeringUnits, …)")
	fs.BoolVar(&f.paths, "paths", false, "write path = \"Objects/…\" instead of id = \"nsu=…\"")
	fs.StringVar(&f.line, "line", "", "line `name` (default line1, or the first free lineN of -config)")
	fs.StringVar(&f.bridgeID, "bridge-id", "factorybridge", "with -endpoint: bridge.id of the config written")
	fs.StringVar(&f.broker, "broker", "tcp://127.0.0.1:1883", "with -endpoint: mqtt.broker of the config written")
	fs.StringVar(&f.out, "o", "", "write to `FILE` instead of stdout")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up after this long")
	fs.DurationVar(&f.requestTimeout, "request-timeout", opcua.DefaultRequestTimeout, "with -endpoint: limit on every OPC UA call")
	fs.BoolVar(&f.quiet, "q", false, "no progress on stderr")
}

func cmdBrowse(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("browse", "(-endpoint URL | -config FILE -server NAME) [flags]", browseHelp, stderr)
	var f browseFlags
	f.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "browse: %v\n", err)
		fs.Usage()
		return errUsage
	}
	src, err := f.source(stderr)
	if err != nil {
		return err
	}
	lineName, err := f.lineName(src.cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	res, err := opcua.Browse(ctx, src.opts, f.browseOptions(stderr))
	if err != nil {
		return fmt.Errorf("browse %s: %w", src.opts.Endpoint, err)
	}
	m, err := f.nodeMap(src, res, lineName)
	if err != nil {
		return err
	}
	if err := writeNodeMap(f.out, stdout, m); err != nil {
		return err
	}
	f.summary(stderr, res, m)
	return nil
}

// check rejects flags that do not go together.
func (f *browseFlags) check() error {
	switch {
	case (f.endpoint == "") == (f.config == ""):
		return fmt.Errorf("give -endpoint URL, or -config FILE with -server NAME")
	case f.config != "" && f.server == "":
		return fmt.Errorf("-config needs -server NAME (the [[servers]] entry to browse)")
	case f.config != "" && f.out == f.config:
		return fmt.Errorf("-o %s would overwrite the config; write elsewhere and append the [[lines]] it holds", f.out)
	}
	return nil
}

func (f *browseFlags) browseOptions(stderr io.Writer) opcua.BrowseOptions {
	b := opcua.BrowseOptions{
		Start: f.start, Depth: f.depth, MaxNodes: f.maxNodes, Match: f.match,
		Properties: f.properties, NodeClasses: splitList(f.classes), DataTypes: splitList(f.types),
	}
	if !f.quiet {
		b.Progress = progressPrinter(stderr)
	}
	return b
}

// progressPrinter reports how far a browse got, at most once a second.
func progressPrinter(stderr io.Writer) func(opcua.BrowseProgress) {
	last := time.Now()
	return func(p opcua.BrowseProgress) {
		if time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		fmt.Fprintf(stderr, "browse: %d nodes seen, %d listed (depth %d)\n", p.Visited, p.Found, p.Depth)
	}
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// browseSource is the server to browse: its client options, and the config
// it comes from (nil with -endpoint).
type browseSource struct {
	opts opcua.Options
	cfg  *config.Config
	srv  config.Server
}

// source builds the client options from -config/-server or -endpoint, with
// the bridge's identity and certificate checks when the server is secured.
func (f *browseFlags) source(stderr io.Writer) (browseSource, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := f.configFor()
	if err != nil {
		return browseSource{}, err
	}
	name := cfg.Servers[0].Name
	if f.config != "" {
		name = f.server
	}
	opts, ok := cfg.OPCUAOptions(name)
	if !ok {
		return browseSource{}, fmt.Errorf("%s: no [[servers]] entry named %q (valid: %s)", f.config, f.server, serverNames(cfg))
	}
	opts.Nodes, opts.Logger = nil, log
	srv := cfg.Servers[slicesIndex(cfg, name)]
	if err := bridge.OPCUASecurity(cfg, srv, &opts, log); err != nil {
		return browseSource{}, err
	}
	return browseSource{opts: opts, cfg: cfg, srv: srv}, nil
}

// configFor loads -config, or makes the config of one -endpoint server.
func (f *browseFlags) configFor() (*config.Config, error) {
	if f.config != "" {
		cfg, err := config.Load(f.config)
		if err != nil {
			return nil, fmt.Errorf("load config:\n%w", err)
		}
		return cfg, nil
	}
	name := f.server
	if name == "" {
		name = "plc"
	}
	cfg := &config.Config{
		Bridge: config.Bridge{ID: f.bridgeID, PKIDir: f.pkiDir},
		Servers: []config.Server{{Name: name, Endpoint: f.endpoint, SecurityPolicy: f.policy, SecurityMode: f.mode,
			TrustOnFirstUse: f.tofu, RequestTimeout: config.Duration(f.requestTimeout)}},
	}
	cfg.ApplyDefaults()
	return cfg, nil
}

func serverNames(cfg *config.Config) string {
	var names []string
	for _, s := range cfg.Servers {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

func slicesIndex(cfg *config.Config, name string) int {
	for i, s := range cfg.Servers {
		if s.Name == name {
			return i
		}
	}
	return 0
}

// lineName is -line, or a line name the config does not use yet.
func (f *browseFlags) lineName(cfg *config.Config) (string, error) {
	used := map[string]bool{}
	if f.config != "" {
		for _, l := range cfg.Lines {
			used[l.Name] = true
		}
	}
	if f.line != "" {
		if used[f.line] {
			return "", fmt.Errorf("%s already has a line %q; choose another with -line", f.config, f.line)
		}
		return f.line, nil
	}
	for i := 1; ; i++ {
		if name := fmt.Sprintf("line%d", i); !used[name] {
			return name, nil
		}
	}
}

// nodeMap turns what was found into the node map to write: a complete
// config with -endpoint, a [[lines]] section for -config.
func (f *browseFlags) nodeMap(src browseSource, res *opcua.BrowseResult, lineName string) (config.NodeMap, error) {
	o := config.BrowseMapOptions{Line: lineName, Paths: f.paths}
	if f.config != "" {
		o.Server = src.srv.Name
	}
	line, others := config.BrowseLine(res.Nodes, o)
	if len(line.Stations) == 0 {
		return config.NodeMap{}, fmt.Errorf("no variables found below %s (%d nodes seen; check -start, -depth, -match, -type)", f.start, res.Visited)
	}
	m := config.NodeMap{Header: f.header(src, res, line), Lines: []config.MapLine{line}}
	if f.config == "" {
		s := config.Server{Name: src.srv.Name, Endpoint: src.srv.Endpoint}
		if src.srv.SecurityPolicy != "None" {
			s.SecurityPolicy, s.SecurityMode = src.srv.SecurityPolicy, src.srv.SecurityMode
		}
		m.BridgeID, m.Broker, m.Servers = f.bridgeID, f.broker, []config.MapServer{{Server: s}}
	}
	if len(others) > 0 {
		m.Footer = append([]string{"Other nodes found (not variables: nothing to subscribe to):"}, others...)
	}
	return m, nil
}

func (f *browseFlags) header(src browseSource, res *opcua.BrowseResult, line config.MapLine) []string {
	vars := 0
	for _, st := range line.Stations {
		vars += len(st.Nodes)
	}
	h := []string{
		fmt.Sprintf("Node map of %s (server %s), made by factorybridge browse", src.opts.Endpoint, src.srv.Name),
		fmt.Sprintf("below %s, depth %d: %s in %s, %s seen.", f.start, f.depth,
			plural(vars, "variable"), plural(len(line.Stations), "station"), plural(res.Visited, "node")),
		"Edit it: rename stations and nodes (reading names are [site/]line/station/node),",
		"delete what you do not need, then check it with factorybridge validate -config <file>.",
	}
	if f.config != "" {
		h = append(h, "Append it to "+f.config+" (it names the server "+src.srv.Name+").")
	} else {
		h = append(h, "Set [mqtt] broker first; configs/full.toml shows every other setting.")
	}
	if res.Truncated {
		h = append(h, fmt.Sprintf("INCOMPLETE: the browse stopped at -max-nodes %d; raise it, or narrow -start or -match.", f.maxNodes))
	}
	return h
}

func (f *browseFlags) summary(stderr io.Writer, res *opcua.BrowseResult, m config.NodeMap) {
	vars := 0
	for _, st := range m.Lines[0].Stations {
		vars += len(st.Nodes)
	}
	to := "stdout"
	if f.out != "" {
		to = f.out
	}
	fmt.Fprintf(stderr, "browse: %s in %s (%s seen) written to %s\n",
		plural(vars, "variable"), plural(len(m.Lines[0].Stations), "station"), plural(res.Visited, "node"), to)
	if res.Truncated {
		fmt.Fprintf(stderr, "browse: stopped at -max-nodes %d: the map is incomplete\n", f.maxNodes)
	}
}

// writeNodeMap writes m to the file path, or to stdout when path is "".
func writeNodeMap(path string, stdout io.Writer, m config.NodeMap) error {
	if path == "" {
		return config.WriteNodeMap(stdout, m)
	}
	var b strings.Builder
	if err := config.WriteNodeMap(&b, m); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write node map: %w", err)
	}
	return nil
}

// plural writes n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
