// Command bench is pigeonhole's load tool. It measures any server that
// speaks the IM assignment's HTTP API (POST /api/send, GET /api/pull,
// GET /ping), so one run can compare pigeonhole with another
// implementation: throughput, latency percentiles free of coordinated
// omission, errors by kind, and for the follow scenario delivery latency
// and exactly-once, in-order delivery. Run it from the workspace root:
//
//	go run ./test/bench --scenario send --target http://127.0.0.1:8080 -c 200 --duration 10s --html send.html
//
// See -h for the scenarios and flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/report"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// errVerification is returned when a follow run saw its deliveries break
// the contract.
var errVerification = errors.New("follow: delivery verification failed")

// run parses args, runs the scenario, prints the table to stdout and writes
// the requested files. An interrupt (ctx ending) cuts the run short and
// still reports what was measured.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	progress := stderr
	if cfg.Quiet {
		progress = nil
	}
	res, err := load.Run(ctx, cfg.Load, progress)
	if err != nil {
		return err
	}
	if err := report.WriteTable(stdout, res); err != nil {
		return err
	}
	if cfg.JSONPath != "" {
		if err := writeFile(cfg.JSONPath, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(res)
		}); err != nil {
			return err
		}
	}
	if cfg.HTMLPath != "" {
		sections := []report.Section{{Heading: res.Options.Scenario, Result: res}}
		if err := writeFile(cfg.HTMLPath, func(w io.Writer) error {
			return report.WriteHTML(w, "pigeonhole bench: "+res.Options.Scenario, sections)
		}); err != nil {
			return err
		}
	}
	if res.Follow != nil && !res.Follow.OK {
		return errVerification
	}
	return nil
}

// writeFile writes path through write, creating its directory.
func writeFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
