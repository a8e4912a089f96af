package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"factorybridge/bridge"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "-config FILE [flags]",
		"Runs the bridge: subscribes to the OPC UA nodes of FILE, commits every reading to\n"+
			"the buffer, and publishes them to the MQTT broker, or to Azure IoT Hub with an\n"+
			"[iothub] table (as an IoT Edge module when the IOTEDGE_* variables are set).\n"+
			"SIGINT or SIGTERM stop reading, commit what is in flight, publish for a bounded\n"+
			"time and close the buffer. SIGHUP reads FILE again: a file with problems is\n"+
			"logged (FILE:LINE) and changes nothing; a changed one is reported (restart to apply).", stderr)
	path := fs.String("config", "", "config file (required; see configs/ for examples)")
	every := fs.Duration("status-interval", 30*time.Second, "how often to log a status line (0 = never)")
	debugAddr := fs.String("debug-addr", "", "serve Go's profiler (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060 (default off)")
	httpAddr := fs.String("http", "", `serve the status page, /metrics and /healthz on this address instead of [http].listen ("off": none)`)
	var lf logFlags
	lf.register(fs)
	hup, stopHUP := catchHUP()
	defer stopHUP()
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		fmt.Fprintln(stderr, "run: -config FILE is required")
		fs.Usage()
		return errUsage
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	routeStdLog(log)
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	log.Info("starting", "version", version, "commit", commit, "config", *path, "summary", cfg.Summary())
	bridge.SetMemoryLimit(cfg, log)
	b, err := bridge.New(cfg, bridge.Options{Logger: log, Version: version, Commit: commit, SetLogLevel: lf.setLevel,
		StatusInterval: *every, DebugAddr: *debugAddr, HTTPListen: *httpAddr})
	if err != nil {
		return err
	}
	return runWithHUP(ctx, hup, b, func(ctx context.Context) { reloadConfig(ctx, *path, b, log) })
}
