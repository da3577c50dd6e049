// Command suite is `make bench`: it builds pigeonhole, starts it on the
// embedded store and on a throwaway MariaDB, runs a fixed set of load
// benchmarks against each (ping, send, pull, newest-page pull, tail poll,
// c=1 latency, mixed, follow, reference, and send and pull at c=2000) a few
// times, records the servers' peak memory, and writes the medians, with a
// table of the performance targets met and missed, to docs/benchmarks.md,
// the plots to docs/benchmarks.html and every run's figures to
// docs/benchmarks-raw/.
//
//	go run ./test/bench/suite [--out docs] [--runs 3] [--duration 3s] [--stores embedded,mysql]
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
	"strings"
	"syscall"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/report"
	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "suite:", err)
		os.Exit(1)
	}
}

// config is the suite's command line.
type config struct {
	out      string
	runs     int
	duration time.Duration
	warmup   time.Duration
	stores   []string
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var stores string
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.out, "out", "docs", "directory for benchmarks.md, benchmarks.html and benchmarks-raw/")
	fs.IntVar(&cfg.runs, "runs", 3, "runs of each benchmark; the figures are their medians")
	fs.DurationVar(&cfg.duration, "duration", 3*time.Second, "measured time of each run")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "warm-up before each run")
	fs.StringVar(&stores, "stores", storeEmbedded+","+storeMySQL, "stores to measure")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if cfg.runs < 1 || cfg.duration <= 0 || fs.NArg() > 0 {
		return config{}, errors.New("want --runs ≥ 1, a positive --duration and no arguments")
	}
	cfg.stores = strings.Split(stores, ",")
	return cfg, nil
}

// run runs the suite; progress goes to log.
func run(ctx context.Context, args []string, log io.Writer) error {
	cfg, err := parseConfig(args, log)
	if err != nil {
		return err
	}
	doc := document{Started: time.Now(), Runs: cfg.runs, Duration: cfg.duration, Warmup: cfg.warmup, PlotsFile: "benchmarks.html"}
	doc.Commit = command("git", "rev-parse", "--short", "HEAD")
	doc.LoadStart = loadAverage()
	fmt.Fprintln(log, "suite: building the servers")
	bins, err := harness.Build(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "pigeonhole-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, store := range cfg.stores {
		outcomes, err := measureStore(ctx, cfg, bins, store, filepath.Join(tmp, store), log)
		if errors.Is(err, errSkipStore) {
			fmt.Fprintf(log, "suite: skipping the %s store: %v\n", store, err)
			doc.Skipped = append(doc.Skipped, fmt.Sprintf("the %s store (%v)", store, err))
			continue
		}
		if err != nil {
			return err
		}
		doc.Outcomes = append(doc.Outcomes, outcomes.runs...)
		doc.Memory = append(doc.Memory, outcomes.memory...)
	}
	doc.Elapsed = time.Since(doc.Started)
	doc.LoadEnd = loadAverage()
	if err := writeOutputs(cfg.out, doc); err != nil {
		return err
	}
	fmt.Fprintf(log, "suite: wrote %s\n", filepath.Join(cfg.out, "benchmarks.md"))
	failed := 0
	for _, o := range doc.Outcomes {
		for _, r := range o.runs {
			if r.Follow != nil && !r.Follow.OK {
				failed++
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("follow: delivery verification failed in %d runs (see %s)", failed, filepath.Join(cfg.out, "benchmarks-raw"))
	}
	return nil
}

// measured is what one store's stack yielded: the benchmarks' runs and the
// servers' peak memory.
type measured struct {
	runs   []outcome
	memory []peakRSS
}

// measureStore starts a stack on store and runs every benchmark on it.
func measureStore(ctx context.Context, cfg config, bins harness.Binaries, store, dir string, log io.Writer) (_ measured, err error) {
	fmt.Fprintf(log, "suite: starting the %s store stack\n", store)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return measured{}, err
	}
	s, err := startStack(ctx, bins, store, dir)
	if err != nil {
		return measured{}, err
	}
	defer func() {
		if stopErr := s.stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("stopping the %s stack: %w", store, stopErr)
		}
	}()
	var m measured
	for _, b := range plan(s.url, cfg.duration, cfg.warmup) {
		o, err := runBenchmark(ctx, store, b, cfg.runs, log)
		if err != nil {
			return measured{}, err
		}
		m.runs = append(m.runs, o)
	}
	for _, p := range []*harness.Process{s.rpc, s.gateway} {
		m.memory = append(m.memory, peakRSS{store: store, process: p.Name(), mib: vmHWM(p.PID())})
	}
	return m, nil
}

// peakRSS is a server process's peak resident memory over the suite.
type peakRSS struct {
	store, process string
	mib            float64 // -1 when unknown
}

// vmHWM reads a process's peak resident set size (VmHWM) from /proc.
func vmHWM(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib float64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%f kB", &kib); err == nil {
				return kib / 1024
			}
		}
	}
	return -1
}

// writeOutputs writes the markdown, the plots and the raw figures.
func writeOutputs(out string, doc document) error {
	raw := filepath.Join(out, "benchmarks-raw")
	if err := os.MkdirAll(raw, 0o755); err != nil {
		return err
	}
	var sections []report.Section
	for _, o := range doc.Outcomes {
		sections = append(sections, report.Section{Heading: o.store + " store: " + o.bench.name, Result: o.medianRun()})
		for i, r := range o.runs {
			name := fmt.Sprintf("%s-%s-%d.json", o.store, strings.NewReplacer(" ", "-", "=", "", "×", "x", ":", "-", "+", "-").Replace(o.bench.name), i+1)
			b, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(raw, name), b, 0o644); err != nil {
				return err
			}
		}
	}
	if err := writeFile(filepath.Join(out, doc.PlotsFile), func(w io.Writer) error {
		return report.WriteHTML(w, "pigeonhole benchmarks", sections)
	}); err != nil {
		return err
	}
	return writeFile(filepath.Join(out, "benchmarks.md"), func(w io.Writer) error { return writeMarkdown(w, doc) })
}

// writeFile writes path through write.
func writeFile(path string, write func(io.Writer) error) error {
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
