package bridge

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"factorybridge/config"
	"factorybridge/publisher/iothub"
	"factorybridge/publisher/mqtt"
)

// ErrRestartRequired is returned by Apply for a configuration that differs
// from the running one in what cannot be changed while running.
var ErrRestartRequired = errors.New("the change needs a restart")

// ErrPartlyApplied is returned by Apply when a component refused its part
// of a configuration; the other parts are applied.
var ErrPartlyApplied = errors.New("configuration applied in part")

// Apply applies a new configuration (loaded and validated) to the running
// bridge, changing only what differs:
//
//   - servers added are connected, servers removed are stopped (their
//     readings in flight committed first), a server whose connection
//     settings ([[servers]] itself) changed is reconnected alone;
//   - a server whose nodes or event sources changed gets them on its
//     running session (opcua.Client.Update): it is not reconnected;
//   - OEE settings go to the OEE runner, which keeps the state of every
//     station whose settings did not change;
//   - [mqtt] or [iothub] settings go to the publisher, which reconnects
//     only when the broker or the identity changed.
//
// What cannot change while running ([bridge], [buffer], [http], switching
// between [mqtt] and [iothub], switching OEE on or off entirely) returns
// ErrRestartRequired naming it, and nothing is applied. It returns the
// sections that changed (none: nothing the bridge runs on changed). A
// component that refuses its part is reported in the error; the other
// parts are applied. Apply calls are serialised.
func (b *Bridge) Apply(cfg *config.Config) ([]string, error) {
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	cur := b.config()
	changed := Changes(cur, cfg)
	if len(changed) == 0 {
		b.swapConfig(cfg)
		return nil, nil
	}
	if need := b.needsRestart(cur, cfg); len(need) > 0 {
		return changed, fmt.Errorf("%w: %s changed", ErrRestartRequired, strings.Join(need, ", "))
	}
	plan, err := b.planSources(cur, cfg)
	if err != nil {
		return changed, fmt.Errorf("config not applied: %w", err)
	}
	var errs []error
	if err := b.applySources(plan); err != nil {
		errs = append(errs, err)
	}
	if err := b.applyOEE(cur, cfg); err != nil {
		errs = append(errs, err)
	}
	if err := b.applyPublisher(cfg); err != nil {
		errs = append(errs, err)
	}
	b.swapConfig(cfg)
	if len(errs) > 0 {
		return changed, fmt.Errorf("%w: %w", ErrPartlyApplied, errors.Join(errs...))
	}
	return changed, nil
}

// swapConfig makes cfg the running configuration for everything that
// reads it (the status page, metrics, reports), with the line counters of
// the servers and lines it keeps.
func (b *Bridge) swapConfig(cfg *config.Config) {
	lines := newLineStats(cfg)
	lines.carry(b.lines.Load())
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg, b.dig = cfg, configDigest(cfg.File)
	b.lines.Store(lines)
}

// needsRestart names what differs between a and b that the bridge cannot
// change while running.
func (b *Bridge) needsRestart(a, c *config.Config) []string {
	var out []string
	for _, s := range []struct {
		name string
		a, b any
	}{
		{"bridge", a.Bridge, c.Bridge},
		{"buffer", a.Buffer, c.Buffer},
		{"http", a.HTTP, c.HTTP},
	} {
		if !reflect.DeepEqual(s.a, s.b) {
			out = append(out, s.name)
		}
	}
	if (a.IoTHub == nil) != (c.IoTHub == nil) {
		out = append(out, "iothub (switching between [mqtt] and [iothub])")
	}
	if oeeOn := stations(c) > 0; oeeOn != (b.oee != nil) {
		out = append(out, "lines (OEE switched on or off entirely)")
	}
	return out
}

func stations(c *config.Config) int {
	n := 0
	for _, l := range c.OEEOptions().Lines {
		n += len(l.Stations)
	}
	return n
}

// sourcePlan is what a reload does to the OPC UA sources.
type sourcePlan struct {
	next    []*source                  // the sources after the reload, in configuration order
	start   []*source                  // built for servers added or reconnected
	stop    []*source                  // of servers removed or reconnected
	updates map[*source]*config.Config // running sources whose nodes or events changed
}

// planSources matches the servers of c with the running sources and
// builds the clients of those added or whose connection settings changed
// (no I/O but reading their certificates).
func (b *Bridge) planSources(cur, c *config.Config) (*sourcePlan, error) {
	running := map[string]*source{}
	for _, s := range b.servers() {
		running[s.name] = s
	}
	p := &sourcePlan{updates: map[*source]*config.Config{}}
	for _, srv := range c.Servers {
		s := running[srv.Name]
		delete(running, srv.Name)
		if old := serverOf(cur, srv.Name); s != nil && old != nil && reflect.DeepEqual(*old, srv) {
			if nodesChanged(cur, c, srv.Name) {
				p.updates[s] = c
			}
			p.next = append(p.next, s)
			continue
		}
		ns, err := b.newSource(c, srv.Name)
		if err != nil {
			return nil, err
		}
		if s != nil {
			p.stop = append(p.stop, s)
		}
		p.start = append(p.start, ns)
		p.next = append(p.next, ns)
	}
	for _, s := range b.servers() {
		if running[s.name] != nil {
			p.stop = append(p.stop, s)
		}
	}
	return p, nil
}

func serverOf(c *config.Config, name string) *config.Server {
	for i := range c.Servers {
		if c.Servers[i].Name == name {
			return &c.Servers[i]
		}
	}
	return nil
}

// nodesChanged reports whether server name's nodes or event sources differ.
func nodesChanged(a, c *config.Config, name string) bool {
	oa, _ := a.OPCUAOptions(name)
	oc, _ := c.OPCUAOptions(name)
	return !reflect.DeepEqual(oa.Nodes, oc.Nodes) || !reflect.DeepEqual(oa.Events, oc.Events)
}

// applySources stops the sources removed or reconnected, starts the new
// ones and hands the changed nodes to the running ones.
func (b *Bridge) applySources(p *sourcePlan) error {
	for _, s := range p.stop {
		s.stop()
		b.log.Info("server stopped", "server", s.name, "why", b.why(p, s))
	}
	b.mu.Lock()
	if b.run == nil || b.run.closed {
		b.mu.Unlock()
		return errors.New("servers not changed: the bridge is not running")
	}
	for _, s := range p.start {
		b.start(s)
		b.log.Info("server started", "server", s.name)
	}
	b.sources = p.next
	b.mu.Unlock()
	var errs []error
	for _, s := range p.next {
		c, ok := p.updates[s]
		if !ok {
			continue
		}
		opts, _ := c.OPCUAOptions(s.name)
		if err := s.client.Update(opts); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// why says why a source is stopped: removed, or reconnected.
func (b *Bridge) why(p *sourcePlan, s *source) string {
	if slices.ContainsFunc(p.start, func(n *source) bool { return n.name == s.name }) {
		return "its connection settings changed: reconnecting"
	}
	return "removed from the configuration"
}

// applyOEE hands changed OEE settings to the runner.
func (b *Bridge) applyOEE(cur, c *config.Config) error {
	next := c.OEEOptions()
	if b.oee == nil || reflect.DeepEqual(cur.OEEOptions(), next) {
		return nil
	}
	if err := b.oee.Reconfigure(next); err != nil { // ErrNoStations is needsRestart's
		return fmt.Errorf("oee: %w", err)
	}
	return nil
}

// applyPublisher hands changed [mqtt] or [iothub] settings to the
// publisher, and the new file's digest to the presence message: the
// publisher reconnects only when the broker or the identity changed.
func (b *Bridge) applyPublisher(c *config.Config) error {
	digest := configDigest(c.File)
	var err error
	switch p := b.pub.(type) {
	case *mqtt.Publisher:
		err = p.Update(b.mqttOptions(c, digest))
	case *iothub.Publisher:
		var o iothub.Options
		if o, err = b.hubOptions(c); err == nil {
			err = p.Update(o)
		}
	default:
		err = fmt.Errorf("publisher %T takes no new settings", b.pub)
	}
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	return nil
}

// Changes returns the sections of the configuration that differ between a
// and b, by their TOML names, in file order.
func Changes(a, b *config.Config) []string {
	sections := []struct {
		name string
		a, b any
	}{
		{"bridge", a.Bridge, b.Bridge},
		{"buffer", a.Buffer, b.Buffer},
		{"mqtt", a.MQTT, b.MQTT},
		{"iothub", a.IoTHub, b.IoTHub},
		{"http", a.HTTP, b.HTTP},
		{"servers", a.Servers, b.Servers},
		{"lines", a.Lines, b.Lines},
		{"calendars", a.Calendars, b.Calendars},
	}
	var out []string
	for _, s := range sections {
		if !reflect.DeepEqual(s.a, s.b) {
			out = append(out, s.name)
		}
	}
	return out
}
