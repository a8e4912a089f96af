package opcua_test

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"factorybridge"
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

// Example runs a client of one server until interrupted. The bridge builds
// its Options from the configuration (config.Config.OPCUAOptions) and sets
// the dependencies: Sink, Logger, the certificate and its verification.
func Example() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	c, err := opcua.New(opcua.Options{
		Name:     "press",
		Endpoint: "opc.tcp://127.0.0.1:4840",
		Nodes: []opcua.Node{{
			Name: "line1/press/temperature", Server: "press", Line: "line1", Station: "press",
			ID: "ns=2;s=Press.Temperature", SamplingInterval: 500 * time.Millisecond,
		}},
		Sink:   printSink{log},
		Logger: log,
	})
	if err != nil {
		log.Error("configure OPC UA client", "err", err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := c.Run(ctx); err != nil { // only a failed sink ends Run early
		log.Error("OPC UA client", "err", err)
	}
}
