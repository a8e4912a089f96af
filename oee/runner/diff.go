package runner

import (
	"reflect"

	"factorybridge/oee"
)

// optionsDiff sorts the stations of two options (line, station): kept
// have equal settings and line settings in both, restarted are in both
// with a difference, added only in the new, removed only in the old.
type optionsDiff struct {
	kept, restarted, added, removed [][2]string
}

// diffOptions compares the stations of old and new. Settings compare with
// reflect.DeepEqual: a difference that changes nothing (a nil map for an
// empty one) restarts a station, which is safe.
func diffOptions(old, new oee.Options) optionsDiff {
	var d optionsDiff
	for i := range new.Lines {
		nl := &new.Lines[i]
		ol := lineIn(old, nl.Name)
		sameLine := ol != nil && sameLineSettings(ol, nl)
		for j := range nl.Stations {
			ns := &nl.Stations[j]
			key := [2]string{nl.Name, ns.Name}
			switch os := stationIn(old, key); {
			case os == nil:
				d.added = append(d.added, key)
			case sameLine && reflect.DeepEqual(os, ns):
				d.kept = append(d.kept, key)
			default:
				d.restarted = append(d.restarted, key)
			}
		}
	}
	for _, key := range stationsOf(old) {
		if stationIn(new, key) == nil {
			d.removed = append(d.removed, key)
		}
	}
	return d
}

// sameLineSettings compares everything of two lines but their stations.
func sameLineSettings(a, b *oee.Line) bool {
	x, y := *a, *b
	x.Stations, y.Stations = nil, nil
	return reflect.DeepEqual(x, y)
}

func lineIn(opts oee.Options, name string) *oee.Line {
	for i := range opts.Lines {
		if opts.Lines[i].Name == name {
			return &opts.Lines[i]
		}
	}
	return nil
}

// stationIn returns the station key names (line, station), or nil.
func stationIn(opts oee.Options, key [2]string) *oee.Station {
	l := lineIn(opts, key[0])
	if l == nil {
		return nil
	}
	for i := range l.Stations {
		if l.Stations[i].Name == key[1] {
			return &l.Stations[i]
		}
	}
	return nil
}

// stationsOf lists the stations of opts (line, station), in order.
func stationsOf(opts oee.Options) [][2]string {
	var out [][2]string
	for _, l := range opts.Lines {
		for _, s := range l.Stations {
			out = append(out, [2]string{l.Name, s.Name})
		}
	}
	return out
}

// names spells stations "line/station", for logs.
func names(stations [][2]string) []string {
	out := make([]string, 0, len(stations))
	for _, s := range stations {
		out = append(out, s[0]+"/"+s[1])
	}
	return out
}
