package main

import (
	"context"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"factorybridge/bridge"
	"factorybridge/internal/demo"
	"factorybridge/oee"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "[flags]",
		"Runs a simulated Connected Factory line (Assembly → Test → Packaging) on an\n"+
			"embedded OPC UA server, an embedded MQTT broker, and the bridge between them,\n"+
			"all on 127.0.0.1. Prints a live summary until Ctrl-C. Needs no config file.", stderr)
	dataDir := fs.String("data-dir", "", "directory for the buffer (default: a temporary directory, removed at exit)")
	every := fs.Duration("every", 3*time.Second, "how often to print the summary")
	speed := fs.Float64("speed", 5, "how much faster than real time the line runs")
	var lf logFlags
	lf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	// The embedded services are scenery: only their warnings are worth a line.
	quiet := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stdlog.SetOutput(io.Discard) // gopcua's server prints its start-up to the standard logger
	dir, cleanup, err := demoDataDir(*dataDir)
	if err != nil {
		return err
	}
	defer cleanup()
	srv, err := demo.StartOPCUAServer(ctx, "127.0.0.1:0", demo.NewLine(time.Now().UnixNano(), *speed), quiet.With("component", "demo-opcua"))
	if err != nil {
		return fmt.Errorf("start demo OPC UA server: %w", err)
	}
	defer srv.Close()
	broker, err := demo.StartBroker("127.0.0.1:0", quiet.With("component", "demo-broker"))
	if err != nil {
		return fmt.Errorf("start demo broker: %w", err)
	}
	defer broker.Close()
	cfg := demo.Config(srv.Endpoint, broker.URL, dir)
	b, err := bridge.New(cfg, bridge.Options{Logger: log, Version: version, SetLogLevel: lf.setLevel,
		StatusInterval: *every, OnStatus: summaryPrinter(stdout, broker)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "factorybridge demo\n  OPC UA server  %s (line1: assembly → test → packaging)\n  MQTT broker    %s (topics %s)\n  buffer         %s\nPress Ctrl-C to stop.\n\n",
		srv.Endpoint, broker.URL, cfg.MQTT.Topic, cfg.Buffer.Path)
	return b.Run(ctx)
}

// demoDataDir returns the directory to use and what to do at exit.
func demoDataDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o750)
	}
	tmp, err := os.MkdirTemp("", "factorybridge-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("create demo data directory: %w", err)
	}
	return filepath.Clean(tmp), func() { os.RemoveAll(tmp) }, nil
}

// summaryPrinter prints one line per status with rates since the last one,
// and each line's OEE.
func summaryPrinter(w io.Writer, broker *demo.Broker) func(bridge.Status) {
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
