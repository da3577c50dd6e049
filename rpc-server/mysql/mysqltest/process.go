package mysqltest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ErrNotFound reports that mariadbd or mariadb-install-db is not installed,
// so Start cannot run a server.
var ErrNotFound = errors.New("mysqltest: mariadbd or mariadb-install-db not found on PATH or in /usr/sbin, /usr/bin")

const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 60 * time.Second
	// startAttempts bounds retries when another process takes the port
	// between freePort closing it and mariadbd binding it.
	startAttempts = 5
	// maxSocketPath keeps the unix socket path inside sun_path (108 bytes on
	// Linux, 104 on macOS).
	maxSocketPath = 100
)

// sizeFlags apply to both mariadb-install-db and mariadbd: the redo log size
// is fixed when the data directory is created.
var sizeFlags = []string{
	"--innodb-buffer-pool-size=64M",
	"--innodb-log-file-size=16M",
}

// serverFlags make a small server that is as durable as production's and
// utf8mb4 throughout. They follow --no-defaults, so no my.cnf changes them.
var serverFlags = []string{
	"--bind-address=127.0.0.1",
	"--skip-name-resolve",
	"--skip-log-bin",
	"--innodb-flush-log-at-trx-commit=1",
	"--character-set-server=utf8mb4",
	"--collation-server=utf8mb4_bin",
	"--max-connections=1000",
	"--performance-schema=OFF",
	"--key-buffer-size=8M",
	"--aria-pagecache-buffer-size=8M",
}

// process is a mariadbd started by Start.
type process struct {
	cmd       *exec.Cmd
	exited    chan struct{} // closed once cmd.Wait has returned
	waitErr   error         // cmd.Wait's result; read only after exited is closed
	dataDir   string
	errorLog  string
	socketDir string // a directory Start made for the socket, removed by stop
}

// Start initialises a data directory in dir (creating dir if needed; an
// already initialised one is reused) and starts mariadbd on it, listening on
// a free port of 127.0.0.1, with root allowed in from 127.0.0.1 without a
// password. dir also receives the error log and, if its path is short
// enough, the unix socket. Start returns once the server accepts connections,
// or an error wrapping ErrNotFound if MariaDB is not installed. ctx bounds
// start-up only; the server runs until Stop.
func Start(ctx context.Context, dir string) (*Server, error) {
	mariadbd, installDB, err := findBinaries()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("mysqltest: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mysqltest: %w", err)
	}
	dataDir := filepath.Join(dir, "data")
	if err := initDataDir(ctx, installDB, dataDir); err != nil {
		return nil, err
	}
	socket, socketDir, err := socketPath(dir)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		s, err := launch(ctx, mariadbd, dir, dataDir, socket)
		if err == nil {
			s.proc.socketDir = socketDir
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || attempt == startAttempts {
			if socketDir != "" {
				os.RemoveAll(socketDir)
			}
			return nil, err
		}
	}
}

// errPortTaken marks a start-up that failed only because the port was taken.
var errPortTaken = errors.New("port taken")

// launch runs mariadbd once, on a fresh port, and waits until it is ready.
func launch(ctx context.Context, mariadbd, dir, dataDir, socket string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	errorLog := filepath.Join(dir, "error.log")
	logFile, err := os.OpenFile(errorLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mysqltest: %w", err)
	}
	defer logFile.Close()
	info, err := logFile.Stat()
	if err != nil {
		return nil, fmt.Errorf("mysqltest: %w", err)
	}
	logStart := info.Size()

	args := []string{
		"--no-defaults", // must come first
		"--datadir=" + dataDir,
		"--port=" + strconv.Itoa(port),
		"--socket=" + socket,
		"--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
		"--log-error=" + errorLog,
	}
	args = append(args, sizeFlags...)
	args = append(args, serverFlags...)
	args = append(args, userFlags()...)
	cmd := exec.Command(mariadbd, args...)
	// Messages written before --log-error takes effect land in the same file.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("mysqltest: start %s: %w", mariadbd, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{}), dataDir: dataDir, errorLog: errorLog}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()

	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s, err := newServer(cfg)
	if err != nil {
		return nil, errors.Join(err, p.stop())
	}
	s.proc = p
	if err := s.waitReady(ctx, logStart); err != nil {
		// err already says why start-up failed; Stop's error would only
		// repeat the exit status.
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls s until it accepts connections, mariadbd exits, ctx ends
// or readyTimeout passes. Errors carry the error log written since logStart.
func (s *Server) waitReady(ctx context.Context, logStart int64) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pingCtx, cancelPing := context.WithTimeout(ctx, time.Second)
		var dataDir string
		err := s.admin.QueryRowContext(pingCtx, "SELECT @@datadir").Scan(&dataDir)
		cancelPing()
		if err == nil {
			// Another server, say a parallel test binary's, may have taken
			// the port between freePort and our bind, and would answer too.
			if !sameFile(dataDir, s.proc.dataDir) {
				return fmt.Errorf("mysqltest: %s serves %s, not ours: %w", s.base.Addr, dataDir, errPortTaken)
			}
			return nil
		}
		select {
		case <-s.proc.exited:
			log := s.proc.logSince(logStart)
			if strings.Contains(log, "Address already in use") {
				return fmt.Errorf("mysqltest: mariadbd on %s: %w", s.base.Addr, errPortTaken)
			}
			return fmt.Errorf("mysqltest: mariadbd exited during start-up (%v); error log:\n%s", s.proc.waitErr, log)
		case <-ctx.Done():
			return fmt.Errorf("mysqltest: mariadbd on %s not ready: %w (last ping: %v); error log:\n%s",
				s.base.Addr, ctx.Err(), err, s.proc.logSince(logStart))
		case <-tick.C:
		}
	}
}

// sameFile reports whether paths a and b name the same existing file.
func sameFile(a, b string) bool {
	ia, errA := os.Stat(a)
	ib, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(ia, ib)
}

// stop sends SIGTERM to the process Start created and waits for it to exit,
// killing it if it takes longer than stopTimeout.
func (p *process) stop() error {
	var err error
	select {
	case <-p.exited:
		if p.waitErr != nil {
			err = fmt.Errorf("mysqltest: mariadbd had exited: %w", p.waitErr)
		}
	default:
		if sigErr := p.cmd.Process.Signal(syscall.SIGTERM); sigErr != nil && !errors.Is(sigErr, os.ErrProcessDone) {
			err = fmt.Errorf("mysqltest: signal mariadbd: %w", sigErr)
		}
		select {
		case <-p.exited:
			if p.waitErr != nil {
				err = errors.Join(err, fmt.Errorf("mysqltest: mariadbd: %w", p.waitErr))
			}
		case <-time.After(stopTimeout):
			p.cmd.Process.Kill()
			<-p.exited
			err = errors.Join(err, fmt.Errorf("mysqltest: mariadbd ignored SIGTERM for %v and was killed", stopTimeout))
		}
	}
	if p.socketDir != "" {
		err = errors.Join(err, os.RemoveAll(p.socketDir))
	}
	return err
}

// logSince returns the error log from offset on, cut to its last 16 KiB.
func (p *process) logSince(offset int64) string {
	const maxLog = 16 << 10
	f, err := os.Open(p.errorLog)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.errorLog, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, offset, 1<<40))
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.errorLog, err)
	}
	if len(b) > maxLog {
		b = append([]byte("...\n"), b[len(b)-maxLog:]...)
	}
	return string(b)
}
