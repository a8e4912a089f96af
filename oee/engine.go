package oee

import (
	"fmt"
	"time"

	fb "factorybridge"
	"factorybridge/config"
)

// Engine computes OEE for every line of a configuration whose stations have
// [lines.stations.oee]. It is not safe for concurrent use.
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

// New builds an engine for a loaded, validated configuration. It does no
// I/O beyond looking up time zones.
func New(c *config.Config) (*Engine, error) {
	e := &Engine{byName: map[string]binding{}, stations: map[[2]string]*station{}, servers: map[string][]*station{}}
	for i := range c.Lines {
		l := &c.Lines[i]
		if l.OEE == nil {
			continue
		}
		ln, err := newLine(c, l)
		if err != nil {
			return nil, fmt.Errorf("line %s: %w", l.Name, err)
		}
		e.lines = append(e.lines, ln)
		for _, s := range ln.stations {
			e.stations[[2]string{l.Name, s.name}] = s
		}
	}
	for _, ref := range c.Nodes("") {
		if s := e.stations[[2]string{ref.Line, ref.Station}]; s != nil {
			e.bind(c, ref, s)
		}
	}
	return e, nil
}

// bind routes a node's readings to its station when the node plays a role.
func (e *Engine) bind(c *config.Config, ref config.NodeRef, s *station) {
	if !contains(e.servers[ref.Server], s) {
		e.servers[ref.Server] = append(e.servers[ref.Server], s)
	}
	roles := stationConfig(c, ref.Line, ref.Station).OEE.Roles
	for ro, name := range []string{
		roleState: roles.State, roleMode: roles.Mode, roleGood: roles.GoodCount,
		roleTotal: roles.TotalCount, roleReject: roles.RejectCount, roleIdeal: roles.IdealCycleTime,
		roleActual: roles.ActualCycleTime, roleFault: roles.FaultTime, roleEnergy: roles.Energy,
		roleProduct: roles.Product,
	} {
		if name != "" && name == ref.Node.Name {
			e.byName[ref.Name] = binding{st: s, ro: role(ro)}
		}
	}
}

func stationConfig(c *config.Config, line, station string) *config.Station {
	for i := range c.Lines {
		for j := range c.Lines[i].Stations {
			if c.Lines[i].Name == line && c.Lines[i].Stations[j].Name == station {
				return &c.Lines[i].Stations[j]
			}
		}
	}
	return nil
}

func contains(ss []*station, s *station) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Observe takes one reading. Readings of nodes that play no OEE role are
// ignored. Readings of one station must come in source-time order; one
// older than what the station has accounted is taken as of that time.
// The source timestamp is used, else the server's; a reading with neither
// counts at the station's current time.
func (e *Engine) Observe(r *fb.Reading) {
	b, ok := e.byName[r.Name]
	if !ok {
		return
	}
	t := r.SourceTime
	if t.IsZero() {
		t = r.ServerTime
	}
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

// ServerConnected is Connected for every station on the server.
func (e *Engine) ServerConnected(server string, at time.Time) {
	for _, s := range e.servers[server] {
		e.Connected(s.line.name, s.name, at)
	}
}

func (s *station) disconnect(at int64) {
	at = s.advance(at)
	s.setBucket(BucketUnknown, at)
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
