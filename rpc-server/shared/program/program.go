// Package program is what both servers' mains share: signal handling and
// exit codes, the one JSON log format (which the frameworks' own loggers
// are routed into, see FrameworkLog), --version, --healthcheck, and the
// settings every process has (log level, soft memory limit, shutdown wait)
// with what they set up.
//
// It lives under rpc-server/shared/ because the gateway already depends on
// the rpc-server module for the contract (the generated Kitex code) and the
// core (package pigeonhole), and the repository's top level holds no third
// module. Packages under shared/ are process plumbing, not the service:
// they import nothing of ours outside shared/, so the gateway importing
// them reaches into none of the service's adapters (a test checks both).
package program

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/envflag"
)

// Run is a program's body: it serves until ctx ends.
type Run func(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error

// ErrVersion is what a program's config parsing returns for --version:
// Main then prints the version on stdout and exits 0, as it does for
// --help (flag.ErrHelp).
var ErrVersion = errors.New("version requested")

// Main runs run with a context that ends on SIGINT or SIGTERM, and exits
// non-zero, after logging the error as JSON on stderr like every other
// line the program prints, if it fails (--help and --version are no
// failures).
func Main(name string, run Run) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	switch {
	case errors.Is(err, ErrVersion):
		fmt.Println(Version(name))
	case err != nil && !errors.Is(err, flag.ErrHelp):
		slog.New(newJSONHandler(os.Stderr, slog.LevelInfo)).Error("exiting", "program", name, "error", err)
		os.Exit(1)
	}
}

// DefaultExitWait is how long in-flight requests may finish on shutdown,
// unless --exit-wait says otherwise.
const DefaultExitWait = 5 * time.Second

// Settings are the flags every server has.
type Settings struct {
	LogLevel       slog.Level
	MemoryLimitMiB int
	ExitWait       time.Duration
	PprofAddr      string
	// Version asks for the version instead of a run; see ErrVersion.
	Version bool
	// Healthcheck asks for a health check of a running instance instead of
	// a run; see Probe.
	Healthcheck bool
}

// Define adds the common flags to fs.
func (s *Settings) Define(fs *envflag.Set) {
	fs.Text(&s.LogLevel, "log-level", "PIGEONHOLE_LOG_LEVEL", "info", "debug, info, warn or error")
	fs.Int(&s.MemoryLimitMiB, "memory-limit-mib", "PIGEONHOLE_MEMORY_LIMIT_MIB", 150,
		"soft memory limit for the Go runtime in MiB (GC works harder near it); 0: none; GOMEMLIMIT, if set, wins")
	fs.Duration(&s.ExitWait, "exit-wait", "PIGEONHOLE_EXIT_WAIT", DefaultExitWait, "how long in-flight requests may finish on shutdown")
	fs.String(&s.PprofAddr, "pprof-addr", "PIGEONHOLE_PPROF_ADDR", "",
		"address of Go's profiling endpoints (/debug/pprof/); empty: off. Never expose it publicly")
	fs.Bool(&s.Version, "version", "", false, "print the module version and VCS revision, and exit")
	fs.Bool(&s.Healthcheck, "healthcheck", "", false,
		"instead of serving, ask the instance configured the same way for /readyz and exit 0 if it is ready (for container health checks)")
}

// Check returns ErrVersion when --version was given; call it after the
// flags are parsed.
func (s Settings) Check() error {
	if s.Version {
		return ErrVersion
	}
	return nil
}

// ServeProfiles serves net/http/pprof's endpoints on PprofAddr until ctx
// ends, when it is set. The handlers are mounted on a mux of their own:
// nothing else is reachable there, and they are on no other server.
func (s Settings) ServeProfiles(ctx context.Context, log *slog.Logger) error {
	if s.PprofAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.PprofAddr)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		if err := ServeHTTP(ctx, ln, mux); err != nil {
			log.Warn("profiles stopped", "error", err)
		}
	}()
	log.Info("serving profiles", "pprof_addr", ln.Addr().String())
	return nil
}

// Start applies the settings to the process and returns its logger (JSON
// on stderr). A soft memory limit keeps the heap, and so RSS, bounded under
// thousands of connections, at a few percent of throughput.
func (s Settings) Start(getenv func(string) string, stderr io.Writer) *slog.Logger {
	if s.MemoryLimitMiB > 0 && getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(s.MemoryLimitMiB) << 20)
	}
	return slog.New(newJSONHandler(stderr, s.LogLevel))
}

// GrowMemoryLimit raises the soft memory limit (--memory-limit-mib) by
// perItem bytes for every item count reports, checked every second until
// ctx ends; it does nothing where no limit is set or GOMEMLIMIT is. The
// limit bounds garbage, not what the process needs to hold: a long poll
// holds a connection, a goroutine and its call's state for as long as it
// waits, and a fixed limit below what thousands of them hold turns the
// garbage collector on without end (measured: 10,000 waiting long polls
// under the 150 MiB default kept both servers' collectors running, 85% of
// a core, where they need 17% without a limit).
func (s Settings) GrowMemoryLimit(ctx context.Context, getenv func(string) string, perItem int64, count func() int64) {
	if s.MemoryLimitMiB <= 0 || getenv("GOMEMLIMIT") != "" {
		return
	}
	base := int64(s.MemoryLimitMiB) << 20
	set := base
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if limit := base + perItem*max(count(), 0); limit != set {
			debug.SetMemoryLimit(limit)
			set = limit
		}
	}
}

// levelName names the frameworks' levels that slog has no name for.
func levelName(l slog.Level) (string, bool) {
	switch l {
	case LevelTrace:
		return "TRACE", true
	case LevelNotice:
		return "NOTICE", true
	case LevelFatal:
		return "FATAL", true
	}
	return "", false
}

// newJSONHandler is the one log format of both programs: JSON lines, with
// durations written as people read them ("5s", not 5000000000).
func newJSONHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		switch {
		case a.Value.Kind() == slog.KindDuration:
			a.Value = slog.StringValue(a.Value.Duration().String())
		case a.Key == slog.LevelKey && len(groups) == 0:
			if l, ok := a.Value.Any().(slog.Level); ok {
				if name, ok := levelName(l); ok {
					a.Value = slog.StringValue(name)
				}
			}
		}
		return a
	}})
}

// LogAttrs are the settings as logged at start.
func (s Settings) LogAttrs() []any {
	return []any{"log_level", s.LogLevel.String(), "memory_limit_mib", s.MemoryLimitMiB, "exit_wait", s.ExitWait, "pprof_addr", s.PprofAddr}
}
