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
	var out []oee.Record
	for _, line := range r.Lines() {
		if rec, ok := r.current[[2]string{line, ""}]; ok {
			out = append(out, rec)
		}
	}
	for _, s := range r.stations {
		if rec, ok := r.current[s]; ok {
			out = append(out, rec)
		}
	}
	return out
}

// Lines returns the names of the lines with OEE, in the order of the
// options.
func (r *Runner) Lines() []string {
	var out []string
	for _, s := range r.stations {
		if len(out) == 0 || out[len(out)-1] != s[0] {
			out = append(out, s[0])
		}
	}
	return out
}
