package runner

import (
	"cmp"
	"context"
	"slices"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
)

// Gaps filled from history. When a server's session is lost (or the bridge
// was down), its stations' time is unknown from then on, and the engine is
// ticked on: records keep coming, with unknown time. If the OPC UA client
// then fills the gap from the server's history (opcua backfill), it hands
// the backfilled readings to the buffer and calls GapFilled with the nodes
// whose gap is known completely, before it says the session is up.
//
// To count that time as known, the runner keeps a snapshot of the engine
// from just before the first disconnect of the outage, and a journal of
// everything it fed the engine since. On GapFilled it rebuilds the engine:
// the snapshot, then the journal and the backfilled readings in time order,
// without the disconnect (and later the connect) of every station whose
// role nodes are all filled, ticked once to where the engine was. So the
// records still open — rolling windows, the shift and hour under way —
// count the gap as known time with its real states and parts; the records
// closed during the gap were sent with the time unknown and are not sent
// again (the rebuilt engine's closed records are discarded). Stations with
// a role node not filled keep the gap unknown, as without backfill.
//
// Bounds: a journal longer than maxJournal entries, or a gap older than
// maxGapAge, is given up (the gap stays unknown). The snapshot and journal
// live in memory: a bridge restart while a gap is open leaves it unknown.
const (
	maxJournal = 200_000
	maxGapAge  = 24 * time.Hour
)

// openGap is the state kept while some server's data is missing.
type openGap struct {
	snapshot []byte // the engine before the first disconnect
	since    time.Time
	journal  []heldItem      // fed to the engine since the snapshot, in order
	pending  map[string]bool // servers disconnected and not connected again
}

// GapFilled is the OPC UA clients' OnGapFilled: the gap of the nodes named
// (reading names) before server's current session is known completely,
// their backfilled readings handed to the buffer. Like OnState, it commits
// first, so that it is taken after those readings.
func (r *Runner) GapFilled(server string, nodes []string) {
	ctx, cancel := context.WithTimeout(context.Background(), finalTimeout)
	defer cancel()
	if err := r.store.Flush(ctx); err != nil {
		r.log.Warn("oee: could not commit before a filled gap; some backfilled readings may count late", "server", server, "err", err)
	}
	r.events.push(connEvent{server: server, fill: true, filled: nodes, seq: r.store.Stats().LastSeq})
}

// holdBackfilled keeps a backfilled reading of an OEE node until its
// server's GapFilled (or session start) is taken.
func (r *Runner) holdBackfilled(rd *fb.Reading) {
	if r.eng.Observes(rd.Name) {
		r.backfilled = append(r.backfilled, heldItem{at: timeOf(rd, r.now()), r: *rd})
	}
}

// startGap takes the snapshot when a disconnect is about to be applied and
// no gap is open; either way server is pending.
func (r *Runner) startGap(servers []string, at time.Time) {
	if r.gap == nil {
		state, err := r.eng.MarshalBinary()
		if err != nil {
			r.log.Warn("oee: cannot keep the engine's state for a gap; it stays unknown", "err", err)
			return
		}
		r.gap = &openGap{snapshot: state, since: at, pending: map[string]bool{}}
	}
	for _, s := range servers {
		r.gap.pending[s] = true
	}
}

// record journals an item just fed to the engine, and gives up a gap that
// grew too long.
func (r *Runner) record(it heldItem) {
	g := r.gap
	if g == nil {
		return
	}
	g.journal = append(g.journal, it)
	if len(g.journal) > maxJournal || time.Unix(0, it.at).Sub(g.since) > maxGapAge {
		r.log.Warn("oee: gap too long to revise from history; its time stays unknown", "since", g.since)
		r.gap = nil
	}
}

// gapEvent adapts a connection event as it is applied: a disconnect opens
// (or joins) the gap; the connect of a server whose gap was filled applies
// to its other stations only, and closes its part of the gap.
func (r *Runner) gapEvent(ev connEvent) connEvent {
	switch {
	case !ev.connected && ev.stations == nil:
		r.startGap([]string{ev.server}, ev.at)
	case ev.connected && ev.stations == nil:
		if filled, ok := r.filled[ev.server]; ok {
			delete(r.filled, ev.server)
			ev.stations = r.unfilled(ev.server, filled)
		}
		r.closeGap(ev.server)
	}
	return ev
}

// closeGap ends server's part of the open gap: its backfilled readings not
// taken by a revision are held (they count late), and once no server is
// pending the snapshot and journal are dropped.
func (r *Runner) closeGap(server string) {
	r.releaseBackfilled(server, nil)
	if g := r.gap; g != nil {
		delete(g.pending, server)
		if len(g.pending) == 0 {
			r.gap = nil
		}
	}
}

// gapFilled takes a GapFilled event: its server's stations whose role
// nodes are all filled get their gap revised.
func (r *Runner) gapFilled(ev connEvent) {
	filled := r.filledStations(ev.server, ev.filled)
	if len(filled) == 0 {
		return
	}
	r.filled[ev.server] = filled
	r.convertHeld(ev.server, filled)
	if g := r.gap; g != nil && g.pending[ev.server] {
		if err := r.revise(ev.server, filled); err != nil {
			r.log.Warn("oee: revising the gap failed; its time stays unknown", "server", ev.server, "err", err)
			return
		}
	}
	r.releaseBackfilled(ev.server, nil)
}

// filledStations returns the stations of server every role node of which
// is in nodes.
func (r *Runner) filledStations(server string, nodes []string) map[[2]string]bool {
	out := map[[2]string]bool{}
	for _, l := range r.opts.Lines {
		for _, s := range l.Stations {
			if s.Server == server && allIn(roleNodes(&s.Roles), nodes) {
				out[[2]string{l.Name, s.Name}] = true
			}
		}
	}
	return out
}

func roleNodes(r *oee.Roles) []string {
	return []string{r.State, r.Mode, r.GoodCount, r.TotalCount, r.RejectCount, r.IdealCycleTime,
		r.ActualCycleTime, r.FaultTime, r.Energy, r.Product}
}

func allIn(names, set []string) bool {
	for _, n := range names {
		if n != "" && !slices.Contains(set, n) {
			return false
		}
	}
	return true
}

// unfilled returns server's stations not in filled.
func (r *Runner) unfilled(server string, filled map[[2]string]bool) [][2]string {
	out := [][2]string{}
	for _, st := range r.stationsOf(server) {
		if !filled[st] {
			out = append(out, st)
		}
	}
	return out
}

func (r *Runner) stationsOf(server string) [][2]string {
	var out [][2]string
	for _, l := range r.opts.Lines {
		for _, s := range l.Stations {
			if s.Server == server {
				out = append(out, [2]string{l.Name, s.Name})
			}
		}
	}
	return out
}

// convertHeld narrows the server's disconnects not applied yet (a short
// outage, still within the lag) to its stations not filled.
func (r *Runner) convertHeld(server string, filled map[[2]string]bool) {
	for i := range r.held {
		if ev := r.held[i].ev; ev != nil && ev.server == server && !ev.connected && ev.stations == nil {
			c := *ev
			c.stations = r.unfilled(server, filled)
			r.held[i].ev = &c
		}
	}
}

// revise rebuilds the engine from the gap's snapshot without the filled
// stations' disconnects, with the server's backfilled readings.
func (r *Runner) revise(server string, filled map[[2]string]bool) error {
	g := r.gap
	items := make([]heldItem, 0, len(g.journal)+len(r.backfilled))
	for _, it := range g.journal {
		if it.ev != nil {
			ev, keep := narrow(*it.ev, server, r.unfilled(server, filled), filled)
			if !keep {
				continue
			}
			it.ev = &ev
		}
		items = append(items, it)
	}
	items = append(items, r.takeBackfilled(server)...)
	slices.SortStableFunc(items, func(a, b heldItem) int { return cmp.Compare(a.at, b.at) })
	eng, err := oee.New(r.opts)
	if err == nil {
		err = eng.UnmarshalBinary(g.snapshot)
	}
	if err != nil {
		return err
	}
	r.eng = eng
	for _, it := range items {
		r.applyItem(it)
	}
	r.eng.Tick(r.ticked, nil) // closed records were sent; provisional ones come with the next tick
	g.journal = items
	r.log.Info("oee: gap filled from history; its time is known again", "server", server,
		"stations", len(filled), "since", g.since, "through", r.ticked)
	return nil
}

// narrow adapts a journaled event of a revision for server's gap: its
// disconnect applies to the unfilled stations only; a restart's station
// disconnects of filled stations go.
func narrow(ev connEvent, server string, unfilled [][2]string, filled map[[2]string]bool) (connEvent, bool) {
	switch {
	case ev.server == server && !ev.connected && ev.stations == nil:
		ev.stations = unfilled
	case ev.stations != nil && !ev.connected:
		var keep [][2]string
		for _, st := range ev.stations {
			if !filled[st] {
				keep = append(keep, st)
			}
		}
		ev.stations = keep
	}
	return ev, ev.stations == nil || len(ev.stations) > 0
}

// takeBackfilled removes and returns server's backfilled readings up to the
// time the engine was ticked; later ones are held as usual.
func (r *Runner) takeBackfilled(server string) []heldItem {
	var out []heldItem
	r.releaseBackfilled(server, func(it heldItem) bool {
		if it.at <= r.ticked.UnixNano() {
			out = append(out, it)
			return true
		}
		return false
	})
	return out
}

// releaseBackfilled moves server's backfilled readings that take does not
// keep into the held items.
func (r *Runner) releaseBackfilled(server string, take func(heldItem) bool) {
	keep := r.backfilled[:0]
	for _, it := range r.backfilled {
		switch {
		case it.r.Server != server:
			keep = append(keep, it)
		case take != nil && take(it):
		default:
			r.held = append(r.held, it)
		}
	}
	clear(r.backfilled[len(keep):])
	r.backfilled = keep
}

// applyItem gives the engine one item as it was journaled.
func (r *Runner) applyItem(it heldItem) {
	if it.ev != nil {
		r.applyEvent(*it.ev)
	} else {
		r.observe(&it.r)
	}
}

// timeOf is the time a reading counts at: its source time, else its server
// time, else now.
func timeOf(rd *fb.Reading, now time.Time) int64 {
	t := rd.SourceTime
	if t.IsZero() {
		t = rd.ServerTime
	}
	if t.IsZero() {
		t = now
	}
	return t.UnixNano()
}

// servers returns the servers of the stations, once each.
func (r *Runner) servers() []string {
	var out []string
	for _, l := range r.opts.Lines {
		for _, s := range l.Stations {
			if !slices.Contains(out, s.Server) {
				out = append(out, s.Server)
			}
		}
	}
	return out
}
