package oee

import "fmt"

// UnmarshalStations is UnmarshalBinary for a changed configuration: into
// e, which New built from the new options and which has taken nothing
// yet, it restores from data (MarshalBinary of the engine built from the
// old options) the state of the stations keep names (line, station), and
// with them their lines' open hours and shifts, in which e's other
// stations start from nothing. Stations not kept stay as New built them,
// as at a first start.
//
// A station may be kept only if its settings and its line's (all but the
// line's station list) are equal in both options: the engine cannot tell,
// the caller compares them. A kept station missing from data or from e
// returns ErrIncompatibleState, and e is left as it was.
func (e *Engine) UnmarshalStations(data []byte, keep [][2]string) error {
	snap, err := decodeSnapshot(data)
	if err != nil {
		return err
	}
	want := make(map[[2]string]bool, len(keep))
	for _, k := range keep {
		want[k] = true
	}
	var plans []carry
	found := 0
	for i := range snap.Lines {
		c, err := e.planCarry(&snap.Lines[i], want)
		if err != nil {
			return err
		}
		if c.l != nil {
			plans, found = append(plans, c), found+c.n
		}
	}
	if found != len(want) {
		return fmt.Errorf("%w: %d of the %d stations to keep are not in the saved state", ErrIncompatibleState, len(want)-found, len(want))
	}
	for _, c := range plans {
		c.apply()
	}
	return nil
}

// carry is what UnmarshalStations restores of one saved line: from[i] is
// the saved index of the line's station i, -1 for a station not kept.
type carry struct {
	l    *line
	ls   *lineSnap
	from []int
	n    int // stations kept
}

// planCarry finds the kept stations of ls in e; a carry with no line when
// ls has none.
func (e *Engine) planCarry(ls *lineSnap, want map[[2]string]bool) (carry, error) {
	c := carry{ls: ls}
	for j, ss := range ls.Stations {
		key := [2]string{ls.Name, ss.Name}
		if !want[key] {
			continue
		}
		s := e.stations[key]
		if s == nil {
			return carry{}, fmt.Errorf("%w: station %s/%s is not in the new options", ErrIncompatibleState, ls.Name, ss.Name)
		}
		if c.l == nil {
			c.l, c.from = s.line, make([]int, len(s.line.stations))
			for i := range c.from {
				c.from[i] = -1
			}
		}
		c.from[s.idx], c.n = j, c.n+1
	}
	for _, p := range ls.S.Open {
		if c.l != nil && len(p.St) != len(ls.Stations) {
			return carry{}, fmt.Errorf("%w: line %s", ErrIncompatibleState, ls.Name)
		}
	}
	return c, nil
}

// apply restores the line's state, its open periods' tallies moved to the
// stations' new places, and the kept stations' states.
func (c carry) apply() {
	for _, p := range c.ls.S.Open {
		st := make([]tally, len(c.l.stations))
		for i, j := range c.from {
			if j >= 0 {
				st[i] = p.St[j]
			}
		}
		p.St = st
	}
	c.l.S = c.ls.S
	c.l.mi.min = -1 << 62 // the cache points at the periods New's line had
	for i, j := range c.from {
		if j >= 0 {
			c.l.stations[i].restore(c.ls.Stations[j].S)
		}
	}
}
