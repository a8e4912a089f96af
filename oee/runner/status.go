package runner

import "factorybridge/oee"

// Latest returns the line's latest rolling record of the line as a whole;
// false before the first.
func (r *Runner) Latest(line string) (oee.Record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.latest[line]
	return rec, ok
}

func (r *Runner) noteLatest(recs []oee.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		r.noteShift(rec)
		if rec.Kind != oee.KindRolling {
			continue
		}
		r.current[[2]string{rec.Line, rec.Station}] = rec
		if rec.Station == "" {
			r.latest[rec.Line] = rec
		}
	}
}

// Current returns the latest rolling record of every line and station that
// has one, lines first, each in the order of the options.
func (r *Runner) Current() []oee.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inOrder(r.current)
}

// Lines returns the names of the lines with OEE, in the order of the
// options.
func (r *Runner) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lines()
}

func (r *Runner) lines() []string {
	var out []string
	for _, s := range r.stations {
		if len(out) == 0 || out[len(out)-1] != s[0] {
			out = append(out, s[0])
		}
	}
	return out
}

// noteShift keeps the latest shift-to-date record of every line and
// station. A tick makes a scope's rolling record before its shift-to-date
// one, and the latter only inside a shift: a rolling record forgets the
// scope's shift record, so that between shifts there is none.
func (r *Runner) noteShift(rec oee.Record) {
	key := [2]string{rec.Line, rec.Station}
	switch rec.Kind {
	case oee.KindRolling:
		delete(r.shift, key)
	case oee.KindShiftToDate:
		if r.shift == nil {
			r.shift = map[[2]string]oee.Record{}
		}
		r.shift[key] = rec
	}
}

// Shift returns the latest shift-to-date record of every line and station
// that is inside a shift, in the order of Current.
func (r *Runner) Shift() []oee.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inOrder(r.shift)
}

// inOrder returns the records of recs (line, station → record; station ""
// for a line) that exist, lines first, each in the order of the options.
func (r *Runner) inOrder(recs map[[2]string]oee.Record) []oee.Record {
	var out []oee.Record
	for _, line := range r.lines() {
		if rec, ok := recs[[2]string{line, ""}]; ok {
			out = append(out, rec)
		}
	}
	for _, s := range r.stations {
		if rec, ok := recs[s]; ok {
			out = append(out, rec)
		}
	}
	return out
}
