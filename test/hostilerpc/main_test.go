// Package hostilerpc attacks real rpc-server and http-server processes the
// way a hostile client would, through the message service's costs: pages
// of the largest messages and oversized RPC frames. Each test asserts the
// bound that matters to an operator: the peak resident memory (VmHWM) of
// each process stays at or under 256 MiB and the gateway keeps answering
// /ping within a second.
//
// The bounds are the product's, so the processes run uninstrumented: under
// -race (as make test runs), TestMain builds plain binaries for the
// harness, since the race detector's shadow memory alone multiplies a
// process's footprint several times.
package hostilerpc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// maxPeakMiB is the most resident memory either process may ever have
// reached during an attack.
const maxPeakMiB = 256

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if harness.RaceEnabled && os.Getenv(harness.EnvBinDir) == "" {
		dir, err := buildPlain()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		os.Setenv(harness.EnvBinDir, dir)
	}
	return m.Run()
}

// buildPlain builds both servers without -race into a new directory.
func buildPlain() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := harness.WorkspaceRoot(ctx)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "pigeonhole-hostilerpc-*")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+"/", "./rpc-server", "./http-server")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build in %s: %w\n%s", root, err, out)
	}
	return dir, nil
}

// peakMiB reads a process's peak resident set size (VmHWM) in MiB.
func peakMiB(tb testing.TB, pid int) float64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatalf("peak memory of %d: %v", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib float64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%f kB", &kib); err == nil {
				return kib / 1024
			}
		}
	}
	tb.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// checkPeak fails tb when the process's peak memory went over the bound.
func checkPeak(tb testing.TB, name string, pid int) {
	tb.Helper()
	peak := peakMiB(tb, pid)
	tb.Logf("%s peak RSS (VmHWM): %.0f MiB", name, peak)
	if peak > maxPeakMiB {
		tb.Errorf("%s peak RSS %.0f MiB, over %d MiB", name, peak, maxPeakMiB)
	}
}
