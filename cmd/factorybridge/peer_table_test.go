package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// peerRow is one program's figures at one node count in BenchmarkPeers.
type peerRow struct {
	nodes, rate  int
	program      string
	elapsed      time.Duration // the measuring window
	readings     uint64        // delivered to the counter in the window
	wire         uint64        // MQTT PUBLISH bytes of those readings
	cpu          time.Duration // user + system time of the program in the window
	rss, peakRSS int64         // median VmRSS of 1 s samples; VmHWM at the end
	counterCPU   time.Duration // user + system time of the benchmark (the counter) in the window
	warnings     int           // Telegraf's logged warnings and errors
	firstWarning string
}

// delivered is the share of the offered readings (every node changes rate
// times a second) that reached the counter in the window.
func (r peerRow) delivered() float64 {
	offered := float64(r.nodes*r.rate) * r.elapsed.Seconds()
	return float64(r.readings) / max(offered, 1)
}

func (r peerRow) cpuPerReading() float64 {
	return float64(r.cpu.Microseconds()) / float64(max(r.readings, 1))
}

func (r peerRow) wirePerReading() float64 {
	return float64(r.wire) / float64(max(r.readings, 1))
}

func (r peerRow) report(b *testing.B) {
	b.ReportMetric(100*r.delivered(), "delivered-%")
	b.ReportMetric(r.cpuPerReading(), "cpu-µs/reading")
	b.ReportMetric(float64(r.rss)/(1<<20), "RSS-MB")
	b.ReportMetric(float64(r.peakRSS)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(r.wirePerReading(), "wire-bytes/reading")
	b.ReportMetric(100*r.counterCPU.Seconds()/r.elapsed.Seconds(), "counter-cpu-%")
}

// printPeerTable writes rows as issue #17's Markdown table, with the peak
// RSS beside the median, and then Telegraf's warnings.
func printPeerTable(w io.Writer, rows []peerRow) {
	fmt.Fprintln(w, "| N nodes | program | delivered of offered | CPU µs/reading | RSS | peak RSS | wire bytes/reading |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s %% | %.2f | %s | %s | %.1f |\n",
			thousands(r.nodes), r.program, deliveredPercent(r.delivered()), r.cpuPerReading(),
			megabytes(r.rss), megabytes(r.peakRSS), r.wirePerReading())
	}
	for _, r := range rows {
		if r.warnings > 0 {
			fmt.Fprintf(w, "\n%s at %s nodes logged %d warnings or errors; the first: %s\n",
				r.program, thousands(r.nodes), r.warnings, r.firstWarning)
		}
	}
}

// deliveredPercent formats a share as the issue does: one decimal, and
// "100" only when nothing is missing.
func deliveredPercent(share float64) string {
	p := 100 * share
	if p >= 99.95 && p < 100 {
		return "99.9"
	}
	return strconv.FormatFloat(p, 'f', 1, 64)
}

// megabytes formats bytes as MB (2^20), the unit of docs/benchmarks.md.
func megabytes(n int64) string {
	return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
}

// thousands formats n ≥ 0 with comma separators: 30000 → "30,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// parseNodeCounts parses FB_PEER_NODES: positive counts separated by
// spaces or commas.
func parseNodeCounts(s string) ([]int, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("parse node counts %q: none", s)
	}
	counts := make([]int, len(fields))
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("parse node counts %q: %q is not a positive count", s, f)
		}
		counts[i] = n
	}
	return counts, nil
}
