package main

import (
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
)

// logFlags are the logging flags every long-running command shares.
type logFlags struct {
	format string
	level  string
	// levelVar is the handlers' level; the IoT Hub twin can change it.
	levelVar slog.LevelVar
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", l.level)
	}
	l.levelVar.Set(level)
	opts := &slog.HandlerOptions{Level: &l.levelVar}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", l.format)
}

// maxRuntimeLevel is the highest level setLevel accepts: warnings carry
// the security events (an untrusted or changed server certificate, trust on
// first use, a weaker security than offered, readable secrets), and whoever
// can change the level at run time (the IoT Hub twin) must not be able to
// hide them.
const maxRuntimeLevel = slog.LevelWarn

// setLevel changes, at run time, the level of the logger made by logger; a
// level above warn is refused.
func (l *logFlags) setLevel(name string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(name)); err != nil {
		return fmt.Errorf("log level %q: want debug, info or warn", name)
	}
	if level > maxRuntimeLevel {
		return fmt.Errorf("log level %q would hide security warnings: at run time the level goes up to warn", name)
	}
	l.levelVar.Set(level)
	return nil
}

// routeStdLog sends what libraries print to the standard logger (gopcua
// does, for some connection events) through slog, so every line has the
// same format; they are warnings at most, so they go out at that level.
func routeStdLog(log *slog.Logger) {
	w := slog.NewLogLogger(log.With("component", "gopcua").Handler(), slog.LevelWarn).Writer()
	stdlog.SetFlags(0)
	stdlog.SetOutput(w)
}
