// Package harness runs pigeonhole's real binaries for tests and tools that
// exercise the whole system from outside: it builds rpc-server and
// http-server once per process, starts them on free 127.0.0.1 ports with
// their output in a log file each, waits until they are ready, and stops
// them with SIGTERM, requiring a clean exit, since graceful shutdown is part
// of the contract.
//
// The Start* functions take a testing.TB and stop what they start in its
// Cleanup, dumping the tail of each log when the test failed. Build, Start
// and Process are the same machinery without a testing.TB, for tools.
//
// The harness needs a Unix system (signals, flock) and the go command.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// EnvBinDir names a directory holding prebuilt rpc-server and http-server
// binaries; when set, Build uses them instead of building.
const EnvBinDir = "PIGEONHOLE_HARNESS_BIN_DIR"

// buildTimeout bounds one build of both binaries (a cold -race build of
// Kitex and Hertz takes a while on a small machine).
const buildTimeout = 5 * time.Minute

// Binaries are the paths of the two server executables.
type Binaries struct {
	RPCServer  string
	HTTPServer string
}

// built is the one build of this process: binaries are built once and
// shared by every test, since linking them takes seconds.
var built struct {
	mu   sync.Mutex
	done bool
	bins Binaries
	err  error
}

// Build returns the server binaries, building them on the first call (with
// -race when this binary was built with -race) from the workspace that
// `go env GOWORK` names. Later calls return the first call's result.
//
// The binaries live in a temporary directory that this process holds a lock
// on; since a test binary cannot run code after its tests, the directory
// outlives it, and the next Build removes directories whose owner is gone.
func Build(ctx context.Context) (Binaries, error) {
	built.mu.Lock()
	defer built.mu.Unlock()
	if !built.done {
		built.bins, built.err = build(ctx)
		built.done = true
	}
	return built.bins, built.err
}

func build(ctx context.Context) (Binaries, error) {
	if dir := os.Getenv(EnvBinDir); dir != "" {
		bins := binariesIn(dir)
		for _, p := range []string{bins.RPCServer, bins.HTTPServer} {
			if _, err := os.Stat(p); err != nil {
				return Binaries{}, fmt.Errorf("harness: %s=%s: %w", EnvBinDir, dir, err)
			}
		}
		return bins, nil
	}
	root, err := WorkspaceRoot(ctx)
	if err != nil {
		return Binaries{}, err
	}
	removeStaleBuildDirs()
	dir, err := lockedTempDir()
	if err != nil {
		return Binaries{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	args := []string{"build"}
	if RaceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "-o", dir+string(filepath.Separator), "./rpc-server", "./http-server")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return Binaries{}, fmt.Errorf("harness: go %s in %s: %w (after %v)\n%s",
			strings.Join(args, " "), root, err, time.Since(start).Round(time.Millisecond), out.String())
	}
	return binariesIn(dir), nil
}

func binariesIn(dir string) Binaries {
	return Binaries{RPCServer: filepath.Join(dir, "rpc-server"), HTTPServer: filepath.Join(dir, "http-server")}
}

// WorkspaceRoot is the directory of the go.work file that ties the
// project's modules together, as reported by `go env GOWORK`.
func WorkspaceRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOWORK").Output()
	if err != nil {
		return "", fmt.Errorf("harness: go env GOWORK: %w", err)
	}
	work := strings.TrimSpace(string(out))
	if work == "" || work == "off" {
		return "", errors.New("harness: not in a Go workspace (go env GOWORK is empty); run from the repository")
	}
	return filepath.Dir(work), nil
}

const (
	buildDirPattern = "pigeonhole-harness-*"
	lockName        = ".lock"
	// staleAfter keeps a sweeper from removing a directory another process
	// has just created but not locked yet.
	staleAfter = time.Minute
)

// lockFile is held open (and flock'ed) for the life of the process; the
// kernel releases the lock when the process exits, however it exits.
var lockFile *os.File

// lockedTempDir makes the build directory and locks it for this process.
func lockedTempDir() (string, error) {
	dir, err := os.MkdirTemp("", buildDirPattern)
	if err != nil {
		return "", fmt.Errorf("harness: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("harness: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return "", fmt.Errorf("harness: lock %s: %w", dir, err)
	}
	lockFile = f
	return dir, nil
}

// removeStaleBuildDirs removes build directories of processes that have
// exited: those whose lock can be taken. It is best effort.
func removeStaleBuildDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), buildDirPattern))
	for _, dir := range dirs {
		info, err := os.Stat(dir)
		if err != nil || !info.IsDir() || time.Since(info.ModTime()) < staleAfter {
			continue
		}
		f, err := os.Open(filepath.Join(dir, lockName))
		if err != nil {
			continue // not ours, or not finished being created
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(dir)
		}
		f.Close()
	}
}
