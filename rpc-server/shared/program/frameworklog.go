package program

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// The frameworks' levels without a slog counterpart, placed between slog's
// own so that --log-level filters them sensibly: trace below debug, notice
// between info and warn, fatal above error.
const (
	LevelTrace  = slog.LevelDebug - 4
	LevelNotice = slog.LevelInfo + 2
	LevelFatal  = slog.LevelError + 4
)

// FrameworkLog forwards the leveled logging calls of Kitex's klog and
// Hertz's hlog to a slog.Logger, so that the frameworks' lines are JSON
// like the programs' own, at the level --log-level sets. It implements
// both frameworks' Logger, FormatLogger and CtxLogger methods and
// SetOutput; SetLevel takes a different Level type in each, so the adapter
// a main installs embeds FrameworkLog and adds it (as a no-op: the slog
// handler's level filters every line).
//
// Fatal and its variants log and then exit with status 1, which is what
// the frameworks' own loggers do and what their callers rely on.
type FrameworkLog struct {
	log *slog.Logger
}

// NewFrameworkLog returns a FrameworkLog writing to log, each record
// tagged with logger=name ("kitex", "hertz").
func NewFrameworkLog(log *slog.Logger, name string) FrameworkLog {
	return FrameworkLog{log: log.With("logger", name)}
}

func (l FrameworkLog) print(ctx context.Context, level slog.Level, v []any) {
	if l.log.Enabled(ctx, level) {
		l.log.Log(ctx, level, fmt.Sprint(v...))
	}
	l.exitIfFatal(level)
}

func (l FrameworkLog) printf(ctx context.Context, level slog.Level, format string, v []any) {
	if l.log.Enabled(ctx, level) {
		l.log.Log(ctx, level, fmt.Sprintf(format, v...))
	}
	l.exitIfFatal(level)
}

func (l FrameworkLog) exitIfFatal(level slog.Level) {
	if level >= LevelFatal {
		os.Exit(1)
	}
}

// SetOutput is a no-op: the output is the slog handler's.
func (l FrameworkLog) SetOutput(io.Writer) {}

// Trace logs fmt.Sprint(v...) at LevelTrace.
func (l FrameworkLog) Trace(v ...any) { l.print(context.Background(), LevelTrace, v) }

// Debug logs fmt.Sprint(v...) at slog.LevelDebug.
func (l FrameworkLog) Debug(v ...any) { l.print(context.Background(), slog.LevelDebug, v) }

// Info logs fmt.Sprint(v...) at slog.LevelInfo.
func (l FrameworkLog) Info(v ...any) { l.print(context.Background(), slog.LevelInfo, v) }

// Notice logs fmt.Sprint(v...) at LevelNotice.
func (l FrameworkLog) Notice(v ...any) { l.print(context.Background(), LevelNotice, v) }

// Warn logs fmt.Sprint(v...) at slog.LevelWarn.
func (l FrameworkLog) Warn(v ...any) { l.print(context.Background(), slog.LevelWarn, v) }

// Error logs fmt.Sprint(v...) at slog.LevelError.
func (l FrameworkLog) Error(v ...any) { l.print(context.Background(), slog.LevelError, v) }

// Fatal logs fmt.Sprint(v...) at LevelFatal and exits with status 1.
func (l FrameworkLog) Fatal(v ...any) { l.print(context.Background(), LevelFatal, v) }

// Tracef logs fmt.Sprintf(format, v...) at LevelTrace.
func (l FrameworkLog) Tracef(format string, v ...any) {
	l.printf(context.Background(), LevelTrace, format, v)
}

// Debugf logs fmt.Sprintf(format, v...) at slog.LevelDebug.
func (l FrameworkLog) Debugf(format string, v ...any) {
	l.printf(context.Background(), slog.LevelDebug, format, v)
}

// Infof logs fmt.Sprintf(format, v...) at slog.LevelInfo.
func (l FrameworkLog) Infof(format string, v ...any) {
	l.printf(context.Background(), slog.LevelInfo, format, v)
}

// Noticef logs fmt.Sprintf(format, v...) at LevelNotice.
func (l FrameworkLog) Noticef(format string, v ...any) {
	l.printf(context.Background(), LevelNotice, format, v)
}

// Warnf logs fmt.Sprintf(format, v...) at slog.LevelWarn.
func (l FrameworkLog) Warnf(format string, v ...any) {
	l.printf(context.Background(), slog.LevelWarn, format, v)
}

// Errorf logs fmt.Sprintf(format, v...) at slog.LevelError.
func (l FrameworkLog) Errorf(format string, v ...any) {
	l.printf(context.Background(), slog.LevelError, format, v)
}

// Fatalf logs fmt.Sprintf(format, v...) at LevelFatal and exits with status 1.
func (l FrameworkLog) Fatalf(format string, v ...any) {
	l.printf(context.Background(), LevelFatal, format, v)
}

// CtxTracef logs fmt.Sprintf(format, v...) at LevelTrace.
func (l FrameworkLog) CtxTracef(ctx context.Context, format string, v ...any) {
	l.printf(ctx, LevelTrace, format, v)
}

// CtxDebugf logs fmt.Sprintf(format, v...) at slog.LevelDebug.
func (l FrameworkLog) CtxDebugf(ctx context.Context, format string, v ...any) {
	l.printf(ctx, slog.LevelDebug, format, v)
}

// CtxInfof logs fmt.Sprintf(format, v...) at slog.LevelInfo.
func (l FrameworkLog) CtxInfof(ctx context.Context, format string, v ...any) {
	l.printf(ctx, slog.LevelInfo, format, v)
}

// CtxNoticef logs fmt.Sprintf(format, v...) at LevelNotice.
func (l FrameworkLog) CtxNoticef(ctx context.Context, format string, v ...any) {
	l.printf(ctx, LevelNotice, format, v)
}

// CtxWarnf logs fmt.Sprintf(format, v...) at slog.LevelWarn.
func (l FrameworkLog) CtxWarnf(ctx context.Context, format string, v ...any) {
	l.printf(ctx, slog.LevelWarn, format, v)
}

// CtxErrorf logs fmt.Sprintf(format, v...) at slog.LevelError.
func (l FrameworkLog) CtxErrorf(ctx context.Context, format string, v ...any) {
	l.printf(ctx, slog.LevelError, format, v)
}

// CtxFatalf logs fmt.Sprintf(format, v...) at LevelFatal and exits with status 1.
func (l FrameworkLog) CtxFatalf(ctx context.Context, format string, v ...any) {
	l.printf(ctx, LevelFatal, format, v)
}
