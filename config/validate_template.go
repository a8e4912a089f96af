package config

import (
	"fmt"
	"slices"
	"strings"
)

// templates checks the templates' names and how stations use them. The
// templates' nodes and OEE settings are checked in the stations they were
// expanded into, whose problems are reported at the template's lines.
func (v checker) templates(c *Config) {
	seen := map[string]string{}
	var names []string
	for i, t := range c.Templates {
		path := fmt.Sprintf("templates[%d]", i)
		if v.name(path+".name", t.Name) && v.unique(path+".name", t.Name, seen) {
			names = append(names, t.Name)
		}
		if len(t.Nodes) == 0 {
			v.r.add(path+".nodes", "at least one node is required (valid: [[templates.nodes]] entries, or nodes = [{ name = …, id = … }, …])")
		}
	}
	for i, l := range c.Lines {
		for j, st := range l.Stations {
			v.stationTemplate(fmt.Sprintf("lines[%d].stations[%d]", i, j), st, names)
		}
	}
}

// stationTemplate checks a station's template, vars and omit settings.
func (v checker) stationTemplate(path string, st Station, names []string) {
	if st.Template == "" {
		if len(st.Vars) > 0 {
			v.r.add(path+".vars", "set, but the station has no template (valid: template = a [[templates]] name)")
		}
		if len(st.Omit) > 0 {
			v.r.add(path+".omit", "set, but the station has no template (valid: template = a [[templates]] name)")
		}
		return
	}
	switch {
	case len(names) == 0:
		v.r.add(path+".template", "%q is not a template (valid: a [[templates]] name; there are none)", st.Template)
	case !slices.Contains(names, st.Template):
		v.r.add(path+".template", "%q is not a template (valid: %s)", st.Template, strings.Join(names, ", "))
	}
	for _, k := range builtinPlaceholders {
		if _, ok := st.Vars[k]; ok {
			v.r.add(path+".vars."+k, "{%s} is always the %s's name (valid: vars of other names)", k, k)
		}
	}
}
