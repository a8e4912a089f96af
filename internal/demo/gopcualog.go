package demo

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
)

// gopcuaLogger adapts slog to gopcua's server.Logger. gopcua calls it
// printf-style ("socket closed: %s", err), which slog would render as
// !BADKEY pairs, and one level louder than we log: every new connection is
// Info, every client disconnect a Warn. So messages are formatted here and
// each level is lowered by one step. While muted everything is Debug: during
// server.New gopcua reports some twenty "Duplicate reference type" Errors
// about its own built-in nodeset, and on shutdown it reports closing its
// own listener as an Error.
type gopcuaLogger struct {
	l     *slog.Logger
	muted atomic.Bool
}

func (g *gopcuaLogger) Debug(format string, args ...any) { g.log(slog.LevelDebug, format, args) }
func (g *gopcuaLogger) Info(format string, args ...any)  { g.log(slog.LevelDebug, format, args) }
func (g *gopcuaLogger) Warn(format string, args ...any)  { g.log(slog.LevelInfo, format, args) }
func (g *gopcuaLogger) Error(format string, args ...any) { g.log(slog.LevelWarn, format, args) }

func (g *gopcuaLogger) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if g.muted.Load() {
		level = slog.LevelDebug
	}
	if !g.l.Enabled(ctx, level) {
		return // gopcua logs every request at Debug; skip the formatting
	}
	g.l.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(format, args...)))
}
