package config

import (
	"strconv"
	"strings"
)

// lineIndex maps field paths ("lines[0].stations[2].nodes[4].id") to the
// line that defines them, and table paths ("lines[0].stations[2]") to the
// line of their header. BurntSushi/toml keeps no positions for keys, so the
// index is built from the text.
type lineIndex map[string]int

// find returns the line of path, or of its nearest ancestor that has one
// (the table header for a missing key), or 0.
func (ix lineIndex) find(path string) int {
	for path != "" {
		if n, ok := ix[path]; ok {
			return n
		}
		path = parentPath(path)
	}
	return 0
}

// parentPath drops the last ".key" or "[i]" of path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// indexLines builds the line index of a TOML text.
func indexLines(text string) lineIndex {
	ix := &indexer{ix: lineIndex{}, count: map[string]int{}}
	for i, line := range strings.Split(text, "\n") {
		ix.line(i+1, strings.TrimSuffix(line, "\r"))
	}
	return ix.ix
}

// indexer is the state of indexLines between lines.
type indexer struct {
	ix    lineIndex
	count map[string]int // elements seen so far of each array of tables
	table string         // path of the table the following keys belong to
	lx    lexer
	value string // path of the array value being scanned, for its inline tables
	elems int    // inline tables seen so far in that array
}

func (x *indexer) line(n int, s string) {
	if x.lx.ml != "" || x.lx.depth > 0 {
		x.lx.line(s, 0, x.brace(n))
		return
	}
	t := strings.TrimLeft(s, " \t")
	switch {
	case t == "" || t[0] == '#':
	case strings.HasPrefix(t, "[["):
		x.arrayHeader(n, t[2:])
	case t[0] == '[':
		x.tableHeader(n, t[1:])
	default:
		x.keyLine(n, t)
	}
}

func (x *indexer) tableHeader(n int, s string) {
	keys, _, ok := parseKey(s)
	if !ok {
		return
	}
	x.table = x.resolve(keys)
	x.set(x.table, n)
}

// arrayHeader handles [[a.b]]: a new element of the array a.b.
func (x *indexer) arrayHeader(n int, s string) {
	keys, _, ok := parseKey(s)
	if !ok {
		return
	}
	array := join(x.resolve(keys[:len(keys)-1]), keyPath(keys[len(keys)-1]))
	x.set(array, n)
	x.table = array + "[" + strconv.Itoa(x.count[array]) + "]"
	x.count[array]++
	x.set(x.table, n)
}

// resolve turns header keys into a path, indexing into the last element of
// each array of tables on the way, as TOML does.
func (x *indexer) resolve(keys []string) string {
	path := ""
	for _, k := range keys {
		path = join(path, keyPath(k))
		if c := x.count[path]; c > 0 {
			path += "[" + strconv.Itoa(c-1) + "]"
		}
	}
	return path
}

func (x *indexer) keyLine(n int, s string) {
	keys, rest, ok := parseKey(s)
	if !ok || !strings.HasPrefix(rest, "=") {
		return
	}
	path := x.table
	for _, k := range keys {
		path = join(path, keyPath(k))
		x.set(path, n)
	}
	value := strings.TrimLeft(rest[1:], " \t")
	x.value, x.elems = "", 0
	if strings.HasPrefix(value, "[") {
		x.value = path
	}
	x.lx.line(value, 0, x.brace(n))
}

// brace returns the lexer callback that indexes each inline table directly
// inside an array value as an element of it: nodes = [{…}, {…}].
func (x *indexer) brace(n int) func(depth int) {
	return func(depth int) {
		if depth == 1 && x.value != "" {
			x.set(x.value+"["+strconv.Itoa(x.elems)+"]", n)
			x.elems++
		}
	}
}

// set records the first line that mentions path.
func (x *indexer) set(path string, n int) {
	if _, ok := x.ix[path]; !ok {
		x.ix[path] = n
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
