package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// File is the configuration file; "" for a Config built in code.
	File string
	// Line is the 1-based line the problem is on; 0 when no line is known
	// (a Config built in code, or a key whose table is missing altogether).
	Line int
	// Path names the field, like "servers[1].endpoint" or
	// "lines[0].stations[2].nodes[4].id"; "${NAME}" for an environment
	// variable; "" for a syntax error.
	Path string
	// Msg says what is wrong and, where there is a set of valid values or a
	// valid form, ends with "(valid: …)". It never contains a secret.
	Msg string
}

// String formats the problem as "FILE:LINE: path: message", leaving out the
// parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		b.WriteString("line " + strconv.Itoa(p.Line) + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors is every problem found in one configuration, sorted by line. Load,
// Parse and Validate return it as *Errors; it is never empty when returned.
type Errors []Problem

// Error joins the problems, one per line.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// reporter collects problems, placing each on the line of its path.
type reporter struct {
	file  string
	lines lineIndex // nil when the config was not parsed from text
	errs  Errors
	// origins maps paths of expanded stations to where the file wrote them
	// (expandTemplates); nil without templates.
	origins map[string]origin
	// merged finds the problem already reported for a template's field, so
	// that the stations using it are listed on one problem.
	merged map[[2]string]*mergedProblem
}

// mergedProblem is a problem in a template and the stations it shows in.
type mergedProblem struct {
	i        int // index in errs
	msg      string
	template string
	stations []string
}

// add records a problem at path, on the line the index knows for it. A path
// of a station's expanded nodes or OEE is reported where the file wrote it:
// in the template, naming the station, or in the station's own text.
func (r *reporter) add(path, format string, args ...any) {
	if o, ok := r.origin(path); ok {
		r.addFrom(o.path, o, format, args...)
		return
	}
	if strings.HasPrefix(path, "templates[") {
		r.addFrom(path, origin{}, format, args...) // merges with what stations found
		return
	}
	r.addAt(r.lines.find(path), path, format, args...)
}

// alias records that the expanded path was written at o.path.
func (r *reporter) alias(path string, o origin) {
	if r.origins == nil {
		r.origins = map[string]origin{}
	}
	r.origins[path] = o
}

// origin returns where the file wrote path: the alias of its longest
// aliased prefix, with the rest of path appended.
func (r *reporter) origin(path string) (origin, bool) {
	for p := path; p != "" && r.origins != nil; p = parentPath(p) {
		if o, ok := r.origins[p]; ok {
			o.path += path[len(p):]
			return o, true
		}
	}
	return origin{}, false
}

// addFrom records a problem at the file's path, naming the station that
// used the template it is in (via.station; "" for the station's own text).
// The same problem found through several stations is reported once.
func (r *reporter) addFrom(path string, via origin, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if via.station == "" && !strings.HasPrefix(path, "templates[") {
		r.addAt(r.lines.find(path), path, "%s", msg)
		return
	}
	key := [2]string{path, msg}
	if r.merged == nil {
		r.merged = map[[2]string]*mergedProblem{}
	}
	m, ok := r.merged[key]
	if !ok {
		m = &mergedProblem{i: len(r.errs), msg: msg}
		r.merged[key] = m
		r.addAt(r.lines.find(path), path, "%s", msg)
	}
	if via.station != "" && !slices.Contains(m.stations, via.station) {
		m.stations, m.template = append(m.stations, via.station), via.template
		r.errs[m.i].Msg = m.msg + usedBy(m.stations, m.template)
	}
}

// usedBy names the stations a template problem shows in.
func usedBy(stations []string, template string) string {
	if len(stations) == 1 {
		return fmt.Sprintf(" (in station %s, from template %q)", stations[0], template)
	}
	return fmt.Sprintf(" (in stations %s, from template %q)", strings.Join(stations, ", "), template)
}

func (r *reporter) addAt(line int, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.errs = append(r.errs, Problem{File: r.file, Line: line, Path: path, Msg: msg})
}

// lineOf describes where path is, for messages that point at a second place:
// "line 12" when the line is known, else the path itself.
func (r *reporter) lineOf(path string) string {
	if o, ok := r.origin(path); ok {
		path = o.path
	}
	if n := r.lines.find(path); n > 0 {
		return "line " + strconv.Itoa(n)
	}
	return path
}

// dropRepeats drops problems after the first n whose path already has one of
// the first n: a value that failed to decode is not also reported as missing.
func (r *reporter) dropRepeats(n int) {
	seen := make(map[string]bool, n)
	for _, p := range r.errs[:n] {
		seen[p.Path] = true
	}
	kept := r.errs[:n] // writes never overtake the reads below
	for _, p := range r.errs[n:] {
		if p.Path == "" || !seen[p.Path] {
			kept = append(kept, p)
		}
	}
	r.errs = kept
}

// err returns the problems sorted by line, or nil when there are none.
func (r *reporter) err() error {
	r.dropShadowed()
	if len(r.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(r.errs, func(a, b Problem) int { return a.Line - b.Line })
	errs := r.errs
	return &errs
}

// dropShadowed drops the problems on a line where a ${VAR} could not be
// expanded: they follow from the missing value and would only distract.
func (r *reporter) dropShadowed() {
	bad := map[int]bool{}
	for _, p := range r.errs {
		if p.Line > 0 && strings.HasPrefix(p.Path, "${") {
			bad[p.Line] = true
		}
	}
	if len(bad) == 0 {
		return
	}
	r.errs = slices.DeleteFunc(r.errs, func(p Problem) bool {
		return bad[p.Line] && !strings.HasPrefix(p.Path, "${")
	})
}
