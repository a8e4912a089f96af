package demo

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"factorybridge/bridge"
	"factorybridge/oee"
)

// DataDir returns the demo's data directory and what to do at exit: dir,
// created if need be, or a temporary directory removed at exit when dir is "".
func DataDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o750)
	}
	tmp, err := os.MkdirTemp("", "factorybridge-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("create demo data directory: %w", err)
	}
	return filepath.Clean(tmp), func() { os.RemoveAll(tmp) }, nil
}

// Summary returns the demo's bridge.Options.OnStatus: it prints one line
// per status with rates since the last one, and each line's OEE.
func Summary(w io.Writer, broker *Broker) func(bridge.Status) {
	var prev bridge.Status
	return func(s bridge.Status) {
		msgs, bytes := broker.Received()
		rate := func(now, then uint64) float64 {
			if prev.At.IsZero() {
				return 0
			}
			return float64(now-then) / s.At.Sub(prev.At).Seconds()
		}
		fmt.Fprintf(w, "%s  received %d (%.0f/s)  committed %d  published %d (%.0f/s)  buffer %d  broker got %d messages, %d bytes  servers %d/%d  mqtt %v\n",
			s.At.Format("15:04:05"), s.Received, rate(s.Received, prev.Received), s.Buffer.Committed,
			s.Published, rate(s.Published, prev.Published), s.Buffer.Depth, msgs, bytes, s.ServersUp, s.Servers, s.Connected)
		printOEE(w, s.OEE)
		prev = s
	}
}

// printOEE prints each line's latest rolling OEE:
// "OEE line1 A 93.1% P 88.0% Q 95.2% = 78.0%", "—" for an undefined figure.
func printOEE(w io.Writer, lines []bridge.LineOEE) {
	for _, l := range lines {
		if !l.OK {
			fmt.Fprintf(w, "  OEE %s — (no record yet)\n", l.Line)
			continue
		}
		r := l.Record
		fmt.Fprintf(w, "  OEE %s A %s P %s Q %s = %s\n", l.Line,
			percent(r.Availability), percent(r.Performance), percent(r.Quality), percent(r.OEE))
	}
}

func percent(x oee.Ratio) string {
	if !x.Defined {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*x.Value)
}
