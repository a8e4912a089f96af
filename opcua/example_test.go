package opcua_test

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"

	"factorybridge"
	"factorybridge/config"
	"factorybridge/opcua"
)

// printSink logs every reading; the bridge's buffer takes its place.
type printSink struct{ log *slog.Logger }

func (s printSink) Append(_ context.Context, rs []factorybridge.Reading) error {
	for _, r := range rs {
		s.log.Info("reading", "name", r.Name, "value", r.Value, "status", r.Status)
	}
	return nil
}

// Example wires one server's client to a sink and runs it until interrupted.
func Example() {
	var cfg config.Config // loaded and validated, defaults applied
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var clients []*opcua.Client
	for _, srv := range cfg.Servers {
		c, err := opcua.New(srv, cfg.Nodes(srv.Name), opcua.Options{Sink: printSink{log}, Logger: log})
		if err != nil {
			log.Error("configure OPC UA client", "err", err)
			return
		}
		clients = append(clients, c)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			if err := c.Run(ctx); err != nil { // only a failed sink ends Run early
				log.Error("OPC UA client", "err", err)
				stop()
			}
		})
	}
	wg.Wait()
}
