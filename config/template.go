package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Template is a station model that identical machines share:
// [[templates]]. A station that names it with template = "<name>" gets its
// nodes and OEE settings, with the placeholders {station} (the station's
// name), {line} (the line's name) and {<key>} (each key of the station's
// vars) filled in every string: names, ids, paths, OEE roles. "{{" is a
// literal "{". The station may add nodes, override a template node by
// giving one of the same name (its keys replace the template's; an id or
// path replaces both), omit template nodes by name, and override OEE keys
// in its own [lines.stations.oee]. Load and Parse expand templates; a
// Config built in code lists every station's nodes itself.
type Template struct {
	// Name is how stations refer to the template. Required, unique.
	Name string `toml:"name"`
	// Nodes are the station's nodes, with placeholders.
	Nodes []Node `toml:"nodes"`
	// OEE is the station's OEE settings, with placeholders; nil for none.
	OEE *StationOEE `toml:"oee"`
}

// The placeholders every station defines; vars may not redefine them.
var builtinPlaceholders = []string{"station", "line"}

// origin is where the text wrote what a station got from expansion: the
// path in the file, and, for what came from a template, the station that
// used it ("" otherwise) and the template's name.
type origin struct {
	path, station, template string
}

// expandTemplates gives every station of the decoded TOML tree that names a
// template the template's nodes and OEE table, merged with its own, before
// the tree is decoded, so that everything after (decoding, defaults,
// validation, the runtime) sees plain stations. It records in r where each
// expanded value was written, so that problems are reported at the
// template's line and name the station. A template that does not exist is
// left for validation to report.
func expandTemplates(tree map[string]any, r *reporter) {
	templates := map[string]int{}
	tables, _ := asTables(tree["templates"])
	for i, t := range tables {
		if name, ok := t["name"].(string); ok {
			if _, dup := templates[name]; !dup {
				templates[name] = i
			}
		}
	}
	lines, _ := asTables(tree["lines"])
	for i, line := range lines {
		stations, _ := asTables(line["stations"])
		for j, st := range stations {
			k, ok := templates[str(st["template"])]
			if !ok {
				continue
			}
			x := newExpansion(r, fmt.Sprintf("lines[%d].stations[%d]", i, j), st, line, k, tables[k])
			x.nodes()
			x.oee()
		}
	}
}

// str returns v when it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// expansion is one station's use of one template.
type expansion struct {
	r        *reporter
	path     string         // the station's path: lines[i].stations[j]
	tpath    string         // the template's path: templates[k]
	st, tmpl map[string]any // the station's and the template's tables
	values   map[string]string
	via      origin // station and template, for what came from the template
}

func newExpansion(r *reporter, path string, st, line map[string]any, k int, tmpl map[string]any) *expansion {
	values := map[string]string{}
	if vars, ok := st["vars"].(map[string]any); ok {
		for key, v := range vars {
			values[key] = str(v)
		}
	}
	values["station"], values["line"] = str(st["name"]), str(line["name"])
	at := fmt.Sprintf("%q", str(st["name"]))
	if n := r.lines.find(path); n > 0 {
		at += fmt.Sprintf(" at line %d", n)
	}
	return &expansion{
		r: r, path: path, tpath: fmt.Sprintf("templates[%d]", k), st: st, tmpl: tmpl,
		values: values, via: origin{station: at, template: str(tmpl["name"])},
	}
}

// from records that the expanded path came from the template's tpath.
func (x *expansion) from(path, tpath string) {
	o := x.via
	o.path = tpath
	x.r.alias(path, o)
}

// nodes merges the template's nodes (filled, less those omitted, overridden
// by the station's nodes of the same name) with the station's other nodes.
func (x *expansion) nodes() {
	own, _ := asTables(x.st["nodes"])
	byName := map[string]int{}
	for i, n := range own {
		byName[str(n["name"])] = i
	}
	omit := x.omitted()
	tnodes, _ := asTables(x.tmpl["nodes"])
	var out []map[string]any
	used := map[int]bool{}
	for k, tn := range tnodes {
		tpath := fmt.Sprintf("%s.nodes[%d]", x.tpath, k)
		n := x.fill(tpath, tn).(map[string]any)
		name := str(n["name"])
		if _, ok := omit[name]; ok {
			omit[name] = true
			continue
		}
		path := fmt.Sprintf("%s.nodes[%d]", x.path, len(out))
		if i, ok := byName[name]; ok {
			used[i] = true
			n = x.override(path, tpath, n, own[i], fmt.Sprintf("%s.nodes[%d]", x.path, i))
		} else {
			x.from(path, tpath)
		}
		out = append(out, n)
	}
	for i, n := range own {
		if !used[i] {
			x.r.alias(fmt.Sprintf("%s.nodes[%d]", x.path, len(out)), origin{path: fmt.Sprintf("%s.nodes[%d]", x.path, i)})
			out = append(out, n)
		}
	}
	x.reportOmits(omit, tnodes)
	x.st["nodes"] = out
}

// override returns the template node n with the station's node's keys; an
// id or a path of the station replaces both of the template's.
func (x *expansion) override(path, tpath string, n, own map[string]any, opath string) map[string]any {
	if own["id"] != nil || own["path"] != nil {
		delete(n, "id")
		delete(n, "path")
	}
	x.r.alias(path, origin{path: opath})
	for key := range n {
		if _, ok := own[key]; !ok {
			x.from(join(path, keyPath(key)), join(tpath, keyPath(key)))
		}
	}
	maps.Copy(n, own)
	return n
}

// omitted returns the names in the station's omit list, each not yet seen.
func (x *expansion) omitted() map[string]bool {
	omit := map[string]bool{}
	list, _ := x.st["omit"].([]any)
	for _, v := range list {
		omit[str(v)] = false
	}
	return omit
}

// reportOmits reports omitted names the template does not have.
func (x *expansion) reportOmits(omit map[string]bool, tnodes []map[string]any) {
	var names []string
	for _, tn := range tnodes {
		names = append(names, str(x.fill("", tn).(map[string]any)["name"]))
	}
	list, _ := x.st["omit"].([]any)
	for i, v := range list {
		if found, ok := omit[str(v)]; ok && !found {
			x.r.add(fmt.Sprintf("%s.omit[%d]", x.path, i), "%q is not a node of template %q (valid: %s)",
				str(v), x.via.template, strings.Join(names, ", "))
		}
	}
}

// oee gives the station the template's OEE table, filled, with the
// station's own keys (at any depth) replacing the template's.
func (x *expansion) oee() {
	t, ok := x.tmpl["oee"]
	if !ok {
		return
	}
	filled := x.fill(x.tpath+".oee", t)
	own, ok := x.st["oee"]
	if !ok {
		x.from(x.path+".oee", x.tpath+".oee")
		x.st["oee"] = filled
		return
	}
	x.st["oee"] = x.merge(x.path+".oee", x.tpath+".oee", filled, own)
}

// merge returns own with the keys of tmpl it lacks; tables in both are
// merged key by key, anything else of own's wins.
func (x *expansion) merge(path, tpath string, tmpl, own any) any {
	tm, ok1 := tmpl.(map[string]any)
	om, ok2 := own.(map[string]any)
	if !ok1 || !ok2 {
		return own
	}
	out := maps.Clone(om)
	for _, key := range slices.Sorted(maps.Keys(tm)) {
		kp, ktp := join(path, keyPath(key)), join(tpath, keyPath(key))
		if ov, ok := om[key]; ok {
			out[key] = x.merge(kp, ktp, tm[key], ov)
			continue
		}
		x.from(kp, ktp)
		out[key] = tm[key]
	}
	return out
}

// fill returns a deep copy of v with the placeholders of every string
// filled; tpath is v's path in the template, for problems ("" reports none).
func (x *expansion) fill(tpath string, v any) any {
	switch v := v.(type) {
	case string:
		return x.fillString(tpath, v)
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = x.fill(joinIf(tpath, keyPath(k)), e)
		}
		return m
	case []map[string]any:
		s := make([]map[string]any, len(v))
		for i, e := range v {
			s[i] = x.fill(indexIf(tpath, i), e).(map[string]any)
		}
		return s
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = x.fill(indexIf(tpath, i), e)
		}
		return s
	}
	return v
}

func joinIf(path, key string) string {
	if path == "" {
		return ""
	}
	return join(path, key)
}

func indexIf(path string, i int) string {
	if path == "" {
		return ""
	}
	return fmt.Sprintf("%s[%d]", path, i)
}

// fillString replaces {name} by the station's value of name and "{{" by
// "{". An unknown {name} is a problem at the template's line.
func (x *expansion) fillString(tpath, s string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return b.String() + s
		}
		b.WriteString(s[:i])
		s = s[i:]
		name, ok := placeholder(s)
		switch {
		case strings.HasPrefix(s, "{{"):
			b.WriteByte('{')
			s = s[2:]
		case !ok:
			b.WriteByte('{')
			s = s[1:]
		default:
			b.WriteString(x.value(tpath, name))
			s = s[len(name)+2:]
		}
	}
}

// placeholder returns the name of the {name} that s starts with.
func placeholder(s string) (string, bool) {
	end := strings.IndexByte(s, '}')
	if end < 2 {
		return "", false
	}
	name := s[1:end]
	for _, c := range name {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", false
		}
	}
	return name, true
}

// value returns the station's value of placeholder name.
func (x *expansion) value(tpath, name string) string {
	if v, ok := x.values[name]; ok {
		return v
	}
	if tpath != "" {
		valid := "{" + strings.Join(slices.Sorted(maps.Keys(x.values)), "}, {") + "}"
		x.r.addFrom(tpath, x.via, "{%s} is not a placeholder of this station (valid: %s; more with vars = { %s = \"…\" } in the station; {{ for a literal {)",
			name, valid, name)
	}
	return "{" + name + "}"
}
