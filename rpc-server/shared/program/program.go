// Package program is what both servers' mains share: signal handling and
// exit codes, and the settings every process has (log level, soft memory
// limit, shutdown wait) with what they set up.
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

// Main runs run with a context that ends on SIGINT or SIGTERM, and exits
// non-zero, after printing the error, if it fails (--help is no failure).
func Main(name string, run Run) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
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
}

// Define adds the common flags to fs.
func (s *Settings) Define(fs *envflag.Set) {
	fs.Text(&s.LogLevel, "log-level", "PIGEONHOLE_LOG_LEVEL", "info", "debug, info, warn or error")
	fs.Int(&s.MemoryLimitMiB, "memory-limit-mib", "PIGEONHOLE_MEMORY_LIMIT_MIB", 150,
		"soft memory limit for the Go runtime in MiB (GC works harder near it); 0: none; GOMEMLIMIT, if set, wins")
	fs.Duration(&s.ExitWait, "exit-wait", "PIGEONHOLE_EXIT_WAIT", DefaultExitWait, "how long in-flight requests may finish on shutdown")
	fs.String(&s.PprofAddr, "pprof-addr", "PIGEONHOLE_PPROF_ADDR", "",
		"address of Go's profiling endpoints (/debug/pprof/); empty: off. Never expose it publicly")
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
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go srv.Serve(ln)
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
	return slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: s.LogLevel}))
}

// LogAttrs are the settings as logged at start.
func (s Settings) LogAttrs() []any {
	return []any{"log_level", s.LogLevel.String(), "memory_limit_mib", s.MemoryLimitMiB, "exit_wait", s.ExitWait, "pprof_addr", s.PprofAddr}
}
