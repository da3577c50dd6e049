package harness

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// startBanner begins the line Start writes to the log before each run.
const startBanner = "--- harness: starting"

// StopTimeout bounds how long Stop waits for a process to exit after
// SIGTERM; the servers' own shutdown wait is 5s by default.
const StopTimeout = 30 * time.Second

// Command describes a process to start.
type Command struct {
	// Name names the process in errors, e.g. "rpc-server".
	Name string
	// Path is the executable.
	Path string
	// Args are its arguments, without the program name.
	Args []string
	// Env is added to the environment. The parent's PIGEONHOLE_*
	// variables are not passed on, so a developer's shell cannot change
	// what a test runs.
	Env []string
	// Dir is the working directory (default: the current one).
	Dir string
	// LogPath is the file stdout and stderr are appended to.
	LogPath string
	// Setpgid starts the process in a process group of its own, so that it
	// and its children can be signalled together (see Process.SignalGroup).
	Setpgid bool
}

// Process is a started Command. Its methods are safe to call from any
// goroutine, but Stop and Kill are meant for one owner.
type Process struct {
	cmd    Command
	exec   *exec.Cmd
	exited chan struct{} // closed when the process has been waited for
	err    error         // exit status, valid once exited is closed
}

// Start starts c with its output appended to c.LogPath.
func Start(c Command) (*Process, error) {
	log, err := os.OpenFile(c.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("harness: %s log: %w", c.Name, err)
	}
	defer log.Close() // the child has its own copy
	fmt.Fprintf(log, "%s %s %s\n", startBanner, c.Path, strings.Join(c.Args, " "))

	cmd := exec.Command(c.Path, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = append(childEnv(), c.Env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	if c.Setpgid {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Setpgid = true
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("harness: start %s: %w", c.Name, err)
	}
	p := &Process{cmd: c, exec: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// childEnv is this process's environment without PIGEONHOLE_* variables.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PIGEONHOLE_") {
			env = append(env, kv)
		}
	}
	return env
}

// PID is the process id.
func (p *Process) PID() int { return p.exec.Process.Pid }

// Name is the Command's name.
func (p *Process) Name() string { return p.cmd.Name }

// LogPath is the file holding the process's output.
func (p *Process) LogPath() string { return p.cmd.LogPath }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitError is the process's exit status once Exited is closed: nil for
// exit code 0, an *exec.ExitError otherwise.
func (p *Process) ExitError() error {
	select {
	case <-p.exited:
		return p.err
	default:
		return nil
	}
}

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits up to StopTimeout for the process to exit.
// It fails unless the process exits with code 0 (a graceful shutdown); if
// the process does not exit in time, it is killed. Stopping a process that
// has already exited reports how it exited.
func (p *Process) Stop() error {
	if p.Running() {
		if err := p.exec.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("harness: SIGTERM %s (pid %d): %w", p.cmd.Name, p.PID(), err)
		}
	}
	select {
	case <-p.exited:
	case <-time.After(StopTimeout):
		p.Kill()
		return fmt.Errorf("harness: %s (pid %d) still running %v after SIGTERM; killed", p.cmd.Name, p.PID(), StopTimeout)
	}
	if p.err != nil {
		return fmt.Errorf("harness: %s (pid %d) did not exit cleanly after SIGTERM: %w", p.cmd.Name, p.PID(), p.err)
	}
	return nil
}

// Kill sends SIGKILL and waits for the process to exit, as a crash would
// end it. It is a no-op for a process that has exited.
func (p *Process) Kill() {
	if p.Running() {
		p.exec.Process.Signal(syscall.SIGKILL) // fails only if it has just exited
	}
	<-p.exited
}

// SignalGroup sends sig to the process group of a process started with
// Setpgid: the process and every child it started.
func (p *Process) SignalGroup(sig syscall.Signal) error {
	if !p.cmd.Setpgid {
		return fmt.Errorf("harness: %s was not started in its own process group", p.cmd.Name)
	}
	err := syscall.Kill(-p.PID(), sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // the group is empty: everyone has exited
	}
	return err
}

// LogTail returns up to the last maxBytes of the process's output, cut at
// a line start.
func (p *Process) LogTail(maxBytes int64) string {
	return fileTail(p.cmd.LogPath, maxBytes)
}

// fileTail returns up to the last maxBytes of the file at path.
func fileTail(path string, maxBytes int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	offset := max(info.Size()-maxBytes, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, offset, info.Size()-offset))
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	s := string(b)
	if offset > 0 {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}
