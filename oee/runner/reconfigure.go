package runner

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	fb "factorybridge"
	"factorybridge/oee"
)

// Reconfiguring a running engine. Reconfigure hands the new options to
// Run's goroutine, which applies them between two reads of the buffer: the
// readings and events taken are either fed to the old engine already or
// still held, and the held ones go to the new engine, so none is lost or
// counted twice. The new engine takes, through the saved-state seam
// (oee.UnmarshalStations), the state of every station whose settings and
// line settings are unchanged; the others start as at a first start, at
// the time the engine was last ticked to.
//
// A first start gets every node's current value from its new
// subscription; a reconfiguration does not (unchanged monitored items do
// not send theirs again), so a restarted station is given the last value
// fed of each of its state, counter, ideal cycle, product and reason
// nodes: it knows its state and its counters' bases at once. Samples
// (actual cycle times, energy) are not given again: they would count
// twice. A station whose server's data is stopped starts disconnected
// instead; its session's return brings its values.

// pendingOptions is the one-slot hand-over from Reconfigure to Run: a
// later Reconfigure replaces options not yet applied.
type pendingOptions struct {
	mu   sync.Mutex
	opts *oee.Options
}

func (p *pendingOptions) put(o oee.Options) {
	p.mu.Lock()
	p.opts = &o
	p.mu.Unlock()
}

func (p *pendingOptions) take() *oee.Options {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.opts
	p.opts = nil
	return o
}

// Reconfigure makes the runner compute with opts from now on, keeping the
// engine state of every station whose settings did not change. It checks
// opts and returns at once; Run applies them before its next read of the
// buffer (within a checkpoint interval; called before Run, right after Run
// restores the saved state), logs what it kept, restarted, added and
// removed, and its next save holds the new engine's state. Do not change
// opts afterwards. Invalid options return the engine's error, and options
// with no station ErrNoStations (stop the runner instead): either way the
// runner goes on with the options it had. The runner's Lag stays as New
// was given it.
func (r *Runner) Reconfigure(opts oee.Options) error {
	if len(stationsOf(opts)) == 0 {
		return fmt.Errorf("reconfigure oee: %w", ErrNoStations)
	}
	if _, err := oee.New(opts); err != nil {
		return fmt.Errorf("reconfigure oee: %w", err)
	}
	r.pending.put(opts)
	return nil
}

// applyPending applies the options Reconfigure handed over, if any.
func (r *Runner) applyPending() {
	opts := r.pending.take()
	if opts == nil {
		return
	}
	if err := r.reconfigure(*opts); err != nil {
		r.log.Error("oee: reconfiguring failed; the settings before stay", "err", err)
	}
}

// reconfigure swaps the engine for one built from opts, carrying the
// unchanged stations' state over, in the open gap's snapshot too.
func (r *Runner) reconfigure(opts oee.Options) error {
	d := diffOptions(r.opts, opts)
	state, err := r.eng.MarshalBinary()
	if err != nil {
		return err
	}
	eng, err := carried(opts, state, d.kept)
	if err != nil {
		return err
	}
	r.carryGap(opts, d.kept)
	r.opts, r.eng = opts, eng
	r.startAfresh(slices.Concat(d.restarted, d.added))
	r.setStations(stationsOf(opts))
	r.log.Info("oee: reconfigured", "kept", names(d.kept), "restarted", names(d.restarted),
		"added", names(d.added), "removed", names(d.removed))
	return nil
}

// carried builds an engine for opts holding the kept stations' state of
// state.
func carried(opts oee.Options, state []byte, kept [][2]string) (*oee.Engine, error) {
	eng, err := oee.New(opts)
	if err != nil {
		return nil, fmt.Errorf("build oee engine: %w", err)
	}
	if err := eng.UnmarshalStations(state, kept); err != nil {
		return nil, fmt.Errorf("carry oee state over: %w", err)
	}
	return eng, nil
}

// carryGap makes the open gap's snapshot fit opts, so that a filled gap
// can still be revised. The stations restarted start at the snapshot then,
// and take the readings journaled since with their new settings.
func (r *Runner) carryGap(opts oee.Options, kept [][2]string) {
	g := r.gap
	if g == nil {
		return
	}
	eng, err := carried(opts, g.snapshot, kept)
	if err == nil {
		g.snapshot, err = eng.MarshalBinary()
	}
	if err != nil {
		r.log.Warn("oee: cannot keep the open gap across the reconfiguration; its time stays unknown", "err", err)
		r.gap = nil
	}
}

// startAfresh starts the stations at the time the engine was ticked to,
// disconnected when their server's data is stopped, else with the last
// values of their nodes. Before the first tick they start with their
// first reading, as at a first start.
func (r *Runner) startAfresh(stations [][2]string) {
	if r.ticked.IsZero() {
		return
	}
	for _, key := range stations {
		st := stationIn(r.opts, key)
		if r.down[st.Server] {
			r.eng.Disconnected(key[0], key[1], r.ticked)
			continue
		}
		r.eng.Connected(key[0], key[1], r.ticked)
		for _, name := range seedNodes(&st.Roles) {
			if rd, ok := r.last[name]; ok {
				rd.BridgeTime = r.ticked
				r.eng.Observe(&rd)
			}
		}
	}
}

// seedNodes are the nodes whose last value a restarted station is given:
// those that set a state or a base, not samples that add up.
func seedNodes(ro *oee.Roles) []string {
	return []string{ro.State, ro.Mode, ro.IdealCycleTime, ro.Product, ro.StopReason,
		ro.GoodCount, ro.TotalCount, ro.RejectCount, ro.FaultTime}
}

// setStations swaps the station list and forgets the records of lines and
// stations that are gone, and the last values of nodes no longer observed.
func (r *Runner) setStations(stations [][2]string) {
	maps.DeleteFunc(r.last, func(name string, _ fb.Reading) bool { return !r.eng.Observes(name) })
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stations = stations
	lines := r.lines()
	gone := func(k [2]string, _ oee.Record) bool {
		return !slices.Contains(stations, k) && (k[1] != "" || !slices.Contains(lines, k[0]))
	}
	maps.DeleteFunc(r.current, gone)
	maps.DeleteFunc(r.shift, gone)
	maps.DeleteFunc(r.latest, func(line string, _ oee.Record) bool { return !slices.Contains(lines, line) })
}

// observe feeds the engine a reading and keeps it as its node's last.
func (r *Runner) observe(rd *fb.Reading) {
	r.eng.Observe(rd)
	r.last[rd.Name] = *rd
}

// noteDown keeps which servers' data is stopped. An event of no server
// (a restart's) stops them all.
func (r *Runner) noteDown(ev connEvent) {
	servers := []string{ev.server}
	if ev.server == "" {
		servers = r.servers()
	}
	for _, s := range servers {
		if ev.connected {
			delete(r.down, s)
		} else {
			r.down[s] = true
		}
	}
}
