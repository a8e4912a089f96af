package main

import (
	"context"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"strings"
	"time"

	"factorybridge/bridge"
	"factorybridge/config"
	"factorybridge/internal/demo"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "[flags]",
		"Runs a simulated Connected Factory line (Assembly → Test → Packaging) on an\n"+
			"embedded OPC UA server, an embedded MQTT broker, and the bridge between them,\n"+
			"all on 127.0.0.1. Prints a live summary until Ctrl-C. Needs no config file.", stderr)
	dataDir := fs.String("data-dir", "", "directory for the buffer (default: a temporary directory, removed at exit)")
	every := fs.Duration("every", 3*time.Second, "how often to print the summary")
	speed := fs.Float64("speed", 5, "how much faster than real time the line runs")
	httpAddr := fs.String("http", config.DefaultHTTPListen, `serve the status page, /metrics and /healthz on this address ("off": none)`)
	var lf logFlags
	lf.register(fs)
	hup, stopHUP := catchHUP()
	defer stopHUP()
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
	dir, cleanup, err := demo.DataDir(*dataDir)
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
	cfg.HTTP.Listen = *httpAddr
	b, err := bridge.New(cfg, bridge.Options{Logger: log, Version: version, Commit: commit, SetLogLevel: lf.setLevel,
		StatusInterval: *every, OnStatus: demo.Summary(stdout, broker)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "factorybridge demo\n  OPC UA server  %s (line1: assembly → test → packaging)\n  MQTT broker    %s (topics %s)\n  buffer         %s\n  status page    %s\nPress Ctrl-C to stop.\n\n",
		srv.Endpoint, broker.URL, cfg.MQTT.Topic, cfg.Buffer.Path, pageURL(cfg.HTTPListen()))
	return runWithHUP(ctx, hup, b, func(context.Context) {
		log.Info("SIGHUP: the demo has no config file to read again; running on")
	})
}

// pageURL is the status page's URL for a listen address, "off" for none.
func pageURL(listen string) string {
	if listen == "" {
		return "off"
	}
	if strings.HasSuffix(listen, ":0") {
		return "on a free port: see the log line \"status page, metrics and health listening\""
	}
	return "http://" + listen + "/"
}
