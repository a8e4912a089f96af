package config

import (
	"fmt"
	"strconv"
	"strings"

	"factorybridge/opcua"
)

// BrowseMapOptions say how browsed nodes become a line of a node map.
type BrowseMapOptions struct {
	// Line is the line's name. Required.
	Line string
	// Server is written into every station; "" leaves it out (one server).
	Server string
	// Paths writes each node's browse path (path = …) instead of its id.
	Paths bool
}

// BrowseLine makes a line of a node map from browsed nodes: each variable
// in the station of its parent folder or object, stations named by their
// parent's browse name (with as many of its ancestors' names, joined by
// ".", as it takes to tell them apart), nodes by their browse names, made
// unique within the station. Names lose the characters reading names
// cannot have ("/", "+", "#" become "_"). Nodes of other classes are
// returned as comments.
func BrowseLine(nodes []opcua.BrowsedNode, o BrowseMapOptions) (MapLine, []string) {
	line := MapLine{Name: o.Line}
	var others []string
	index := map[string]int{} // parent path → station
	var parents [][]string
	var taken []map[string]bool // per station: the node names used
	for _, n := range nodes {
		if n.NodeClass != "Variable" {
			others = append(others, fmt.Sprintf("%s %s  %s", n.NodeClass, n.PathString(), n.ID))
			continue
		}
		parent := n.Path[:len(n.Path)-1]
		key := strings.Join(names(parent), "\x00")
		i, ok := index[key]
		if !ok {
			i = len(line.Stations)
			index[key] = i
			parents = append(parents, names(parent))
			line.Stations = append(line.Stations, MapStation{Server: o.Server,
				Comments: []string{opcua.BrowsedNode{Path: parent}.PathString()}})
			taken = append(taken, map[string]bool{})
		}
		line.Stations[i].Nodes = append(line.Stations[i].Nodes, browsedNode(n, o, taken[i]))
	}
	for i, name := range stationNames(parents) {
		line.Stations[i].Name = name
	}
	return line, others
}

// browsedNode makes the node of one variable, named uniquely among those
// of its station so far (taken, to which it adds its name).
func browsedNode(n opcua.BrowsedNode, o BrowseMapOptions, taken map[string]bool) MapNode {
	browseName := n.Path[len(n.Path)-1].Name
	name := SafeName(browseName)
	for k := 2; taken[name]; k++ {
		name = SafeName(browseName) + "_" + strconv.Itoa(k)
	}
	taken[name] = true
	m := MapNode{Node: Node{Name: name, ID: n.ID}, Note: n.DataType}
	if o.Paths {
		m.ID, m.Path = "", opcua.ExactPath(n.Path).String()
	}
	if name != browseName {
		m.Note = strings.TrimSpace(m.Note + fmt.Sprintf(" (browse name %q)", browseName))
	}
	return m
}

// stationNames names each parent by its last name, or by as many of its
// last names (joined by ".") as it takes to be unique.
func stationNames(parents [][]string) []string {
	depth := make([]int, len(parents))
	for i := range depth {
		depth[i] = 1
	}
	for {
		out := make([]string, len(parents))
		byName := map[string][]int{}
		for i, p := range parents {
			k := min(depth[i], len(p))
			out[i] = SafeName(strings.Join(p[len(p)-k:], "."))
			byName[out[i]] = append(byName[out[i]], i)
		}
		grew := false
		for _, same := range byName {
			for _, i := range same {
				if len(same) > 1 && depth[i] < len(parents[i]) {
					depth[i]++
					grew = true
				}
			}
		}
		if !grew {
			return uniqueNames(out)
		}
	}
}

// uniqueNames suffixes names that are still the same ("_2", "_3", …).
func uniqueNames(names []string) []string {
	seen := map[string]bool{}
	for i, n := range names {
		name := n
		for k := 2; seen[name]; k++ {
			name = n + "_" + strconv.Itoa(k)
		}
		seen[name] = true
		names[i] = name
	}
	return names
}

func names(path []opcua.PathSegment) []string {
	out := make([]string, len(path))
	for i, seg := range path {
		out[i] = seg.Name
	}
	return out
}

// SafeName turns text into a name valid for lines, stations and nodes:
// "/", "+" and "#" (path and topic separators) become "_"; "" becomes "_".
func SafeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '+' || r == '#' {
			return '_'
		}
		return r
	}, s)
	if s == "" {
		return "_"
	}
	return s
}
