package oee

import (
	"fmt"
	"time"

	fb "factorybridge"
)

// Engine computes OEE for the lines of its Options. It is not safe for
// concurrent use.
type Engine struct {
	lines    []*line
	byName   map[string]binding     // reading name → station and role
	stations map[[2]string]*station // line, station
	servers  map[string][]*station
}

type binding struct {
	st *station
	ro role
}

// New builds an engine for opts. It does no I/O beyond looking up time
// zones, and returns an error for settings it cannot compute with.
func New(opts Options) (*Engine, error) {
	e := &Engine{byName: map[string]binding{}, stations: map[[2]string]*station{}, servers: map[string][]*station{}}
	for i := range opts.Lines {
		o := &opts.Lines[i]
		ln, err := newLine(o)
		if err != nil {
			return nil, fmt.Errorf("line %s: %w", o.Name, err)
		}
		e.lines = append(e.lines, ln)
		for j, s := range ln.stations {
			e.stations[[2]string{o.Name, s.name}] = s
			e.bind(&o.Stations[j], s)
		}
	}
	return e, nil
}

// bind routes the readings of the station's roles to it. When two roles
// name one reading, the later role takes it.
func (e *Engine) bind(o *Station, s *station) {
	e.servers[o.Server] = append(e.servers[o.Server], s)
	for ro, name := range o.Roles.byRole() {
		if name != "" {
			e.byName[name] = binding{st: s, ro: role(ro)}
		}
	}
}

// Observes reports whether readings named name play a role at a station:
// Observe ignores all others.
func (e *Engine) Observes(name string) bool {
	_, ok := e.byName[name]
	return ok
}

// Observe takes one reading. Readings of nodes that play no OEE role are
// ignored. Readings of one station must come in time order; one older than
// what the station has accounted is taken as of that time. The reading's
// Time is used (its time on the bridge's clock, else its source timestamp,
// else the server's); a reading with none counts at the station's current
// time.
func (e *Engine) Observe(r *fb.Reading) {
	b, ok := e.byName[r.Name]
	if !ok {
		return
	}
	t := r.Time()
	at := b.st.S.Cursor
	if !t.IsZero() {
		at = t.UnixNano()
	}
	b.st.observe(b.ro, r, at)
}

// Disconnected reports that the station's data stopped at `at` (its
// server's session is lost): from then on its time is unknown, and counter
// deltas after Connected are attributed to the gap.
func (e *Engine) Disconnected(line, station string, at time.Time) {
	if s := e.stations[[2]string{line, station}]; s != nil {
		s.disconnect(at.UnixNano())
	}
}

// Connected reports that the station's data flows again from `at`. Its
// state stays unknown until its state node reports.
func (e *Engine) Connected(line, station string, at time.Time) {
	if s := e.stations[[2]string{line, station}]; s != nil {
		s.advance(at.UnixNano())
		s.S.Disconnected = false
	}
}

// ServerDisconnected is Disconnected for every station on the server.
func (e *Engine) ServerDisconnected(server string, at time.Time) {
	for _, s := range e.servers[server] {
		s.disconnect(at.UnixNano())
	}
}

// ServerClockStep reports that the server's clock stepped at `at` (on the
// bridge's clock): its stations' records of that moment are flagged. Time
// is not touched: readings come on the bridge's clock.
func (e *Engine) ServerClockStep(server string, at time.Time) {
	for _, s := range e.servers[server] {
		for _, tg := range s.targets(max(at.UnixNano(), s.S.Cursor)) {
			if tg != nil {
				tg.ClockSteps++
			}
		}
	}
}

// ServerConnected is Connected for every station on the server.
func (e *Engine) ServerConnected(server string, at time.Time) {
	for _, s := range e.servers[server] {
		e.Connected(s.line.name, s.name, at)
	}
}

func (s *station) disconnect(at int64) {
	at = s.advance(at)
	s.setBucket(BucketUnknown, 0, at)
	s.S.Disconnected = true
	for i := range s.S.Counters {
		s.S.Counters[i].Gap = true
	}
}

// Tick advances every station to now, the caller's clock, and appends the
// records that are due to dst: closed hour and shift records once, when
// they end (later by up to the small-stop threshold while a stop across
// their end is being classified), and rolling and shift-to-date records
// every interval.
func (e *Engine) Tick(now time.Time, dst []Record) []Record {
	for _, l := range e.lines {
		dst = l.tick(now.UnixNano(), dst)
	}
	return dst
}
