package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startAttempts bounds retries when another process takes a free port
// before the server binds it.
const startAttempts = 5

// logTailBytes is how much of a log is shown when a test fails.
const logTailBytes = 16 << 10

// raceReport is what a -race binary writes when it detects a data race.
const raceReport = "WARNING: DATA RACE"

// server is the life cycle shared by RPCServer and Gateway: one process at a
// time, started on one address, restartable, stopped in the test's Cleanup.
// Its methods must be called from the goroutine of the test that started
// it, since they fail that test with Fatal.
type server struct {
	tb        testing.TB
	name      string
	path      string
	logPath   string
	env       []string
	args      func(addr string) []string
	ready     func(ctx context.Context, p *Process, addr string) error
	addr      string
	fixedAddr bool // addr was chosen by the caller or has been served on
	proc      *Process
	ended     bool // proc was stopped or killed on purpose
}

// init records the common fields; addr "" means a free port.
func (s *server) init(tb testing.TB, name, path, addr string, env []string) {
	s.tb, s.name, s.path, s.env = tb, name, path, env
	s.addr, s.fixedAddr = addr, addr != ""
	s.logPath = filepath.Join(tb.TempDir(), name+".log")
	tb.Cleanup(s.cleanup)
}

// start starts the process and waits until it is ready. On a free port it
// retries on another one when the port was taken in the meantime.
func (s *server) start() error {
	for attempt := 1; ; attempt++ {
		if !s.fixedAddr {
			addr, err := FreeAddr()
			if err != nil {
				return err
			}
			s.addr = addr
		}
		p, err := Start(Command{Name: s.name, Path: s.path, Args: s.args(s.addr), Env: s.env, LogPath: s.logPath})
		if err != nil {
			return err
		}
		s.proc, s.ended = p, false
		ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
		err = s.ready(ctx, p, s.addr)
		cancel()
		if err == nil {
			s.fixedAddr = true // a restart comes back on the same address
			return nil
		}
		s.ended = true // start's error says why
		p.Kill()
		if s.fixedAddr || attempt == startAttempts || !lostPort(p.LogTail(8<<10), s.addr) {
			return err
		}
	}
}

// lostPort reports whether the last run in log failed to bind addr because
// another process took the port after FreeAddr found it free.
func lostPort(log, addr string) bool {
	if i := strings.LastIndex(log, startBanner); i >= 0 {
		log = log[i:]
	}
	for line := range strings.Lines(log) {
		if strings.Contains(line, "address already in use") && strings.Contains(line, addr) {
			return true
		}
	}
	return false
}

// PID is the process id of the running (or last) process.
func (s *server) PID() int { return s.proc.PID() }

// Process is the running (or last) process.
func (s *server) Process() *Process { return s.proc }

// LogPath is the file holding the output of every process of this server,
// restarts included.
func (s *server) LogPath() string { return s.logPath }

// Stop stops the server with SIGTERM and waits for it to exit; it fails the
// test unless the server exits with code 0 within StopTimeout.
func (s *server) Stop() {
	s.tb.Helper()
	if err := s.stop(); err != nil {
		s.tb.Fatal(err)
	}
}

func (s *server) stop() error {
	s.ended = true
	if err := s.proc.Stop(); err != nil {
		return fmt.Errorf("%w; log %s:\n%s", err, s.logPath, fileTail(s.logPath, logTailBytes))
	}
	return s.checkLog()
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
func (s *server) Kill() {
	s.ended = true
	s.proc.Kill()
}

// Start starts the server again, on the same address and with the same
// options, after Stop or Kill, and waits until it is ready.
func (s *server) Start() {
	s.tb.Helper()
	if s.proc.Running() {
		s.tb.Fatalf("harness: %s (pid %d) is already running", s.name, s.PID())
	}
	if err := s.start(); err != nil {
		s.tb.Fatal(err)
	}
}

// Restart stops the server gracefully (failing the test unless it exits
// with code 0) and starts it again on the same address.
func (s *server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.Start()
}

// checkLog fails when a -race build of the server reported a data race.
func (s *server) checkLog() error {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Errorf("harness: %s log: %w", s.name, err)
	}
	if i := strings.Index(string(b), raceReport); i >= 0 {
		report := b[i:min(len(b), i+logTailBytes)]
		return fmt.Errorf("harness: %s reported a data race; log %s:\n%s", s.name, s.logPath, report)
	}
	return nil
}

// cleanup stops a running server, fails the test if the server exited
// on its own or reported a data race, and shows the end of its log if the
// test failed.
func (s *server) cleanup() {
	if s.proc == nil {
		return // never started; start's error said why
	}
	var err error
	switch {
	case s.proc.Running():
		err = s.stop()
	case !s.ended:
		err = fmt.Errorf("harness: %s (pid %d) exited on its own: %v; log %s:\n%s",
			s.name, s.PID(), s.proc.ExitError(), s.logPath, fileTail(s.logPath, logTailBytes))
	default:
		err = s.checkLog()
	}
	if err != nil {
		s.tb.Error(err) // err carries the log
	} else if s.tb.Failed() {
		s.tb.Logf("harness: end of %s log %s:\n%s", s.name, s.logPath, fileTail(s.logPath, logTailBytes))
	}
}
