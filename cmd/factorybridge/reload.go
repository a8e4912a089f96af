package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"factorybridge/bridge"
	"factorybridge/config"
)

// runWithHUP runs b until ctx ends, calling onHUP for every SIGHUP
// meanwhile. Without it a SIGHUP would end the process at once, skipping
// the shutdown (no final commit, no OEE save); every daemon reloads or
// ignores it. The signal is caught from the start of the command (hup),
// so one sent while the bridge starts is handled once it runs.
func runWithHUP(ctx context.Context, hup <-chan os.Signal, b *bridge.Bridge, onHUP func(context.Context)) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				onHUP(ctx)
			}
		}
	})
	err := b.Run(ctx)
	cancel()
	wg.Wait()
	return err
}

// catchHUP starts catching SIGHUP; stop ends it.
func catchHUP() (hup <-chan os.Signal, stop func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGHUP)
	return c, func() { signal.Stop(c) }
}

// reloadConfig is run's answer to SIGHUP: it reads the config file again
// and hands it to the bridge, which applies what it can while running.
// A file with problems changes nothing: every problem is logged with its
// file:line and the bridge runs on with the configuration it has.
func reloadConfig(ctx context.Context, path string, b *bridge.Bridge, log *slog.Logger) {
	log.Info("SIGHUP: reading the config file again", "config", path)
	cfg, err := config.Load(path)
	if err != nil {
		logConfigProblems(log, path, err)
		return
	}
	switch changed, err := b.Apply(cfg); {
	case err == nil && len(changed) == 0:
		log.Info("config reloaded: nothing changed that the bridge runs on", "config", path)
	case err == nil:
		log.Info("config reloaded", "config", path, "changed", strings.Join(changed, ","))
	case errors.Is(err, bridge.ErrPartlyApplied):
		log.Error("config reloaded in part: a component refused its change", "config", path,
			"changed", strings.Join(changed, ","), "err", err)
	case errors.Is(err, bridge.ErrRestartRequired):
		log.Warn("config not applied: this change needs a restart; running on the previous one",
			"config", path, "err", err)
	default:
		log.Error("config not applied; running on the previous one", "config", path, "err", err)
	}
}

// logConfigProblems logs why a config file could not be reloaded: each
// problem on a line of its own, so none is lost in one long message.
func logConfigProblems(log *slog.Logger, path string, err error) {
	var problems *config.Errors
	if !errors.As(err, &problems) {
		log.Error("config not reloaded; running on the previous one", "config", path, "err", err)
		return
	}
	for _, p := range *problems {
		log.Error("config problem", "problem", p.String())
	}
	log.Error("config not reloaded; running on the previous one", "config", path, "problems", len(*problems))
}
