package mysqltest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
)

// Where Debian and most distributions install MariaDB; /usr/sbin is often
// missing from the PATH of ordinary users.
var (
	serverCandidates  = []string{"mariadbd", "/usr/sbin/mariadbd", "/usr/local/sbin/mariadbd"}
	installCandidates = []string{"mariadb-install-db", "/usr/bin/mariadb-install-db", "/usr/local/bin/mariadb-install-db"}
)

// findBinaries locates mariadbd and mariadb-install-db, or returns
// ErrNotFound.
func findBinaries() (mariadbd, installDB string, err error) {
	mariadbd, err = lookPath(serverCandidates)
	if err != nil {
		return "", "", err
	}
	installDB, err = lookPath(installCandidates)
	if err != nil {
		return "", "", err
	}
	return mariadbd, installDB, nil
}

// lookPath returns the first candidate that is an executable on PATH or at
// its absolute path.
func lookPath(candidates []string) (string, error) {
	for _, c := range candidates {
		if path, err := exec.LookPath(c); err == nil {
			return path, nil
		}
	}
	return "", ErrNotFound
}

// initDataDir creates a data directory in dataDir unless one is already
// there. root gets a passwordless account for 127.0.0.1 (and localhost, ::1)
// because --auth-root-authentication-method=normal asks for the classic
// accounts; the default, socket, would admit root only over the unix socket.
func initDataDir(ctx context.Context, installDB, dataDir string) error {
	// mariadb-install-db writes this file only after every system table is
	// in place, so it tells a finished data directory from a broken one.
	marker := filepath.Join(dataDir, "mysql_upgrade_info")
	if _, err := os.Stat(marker); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("mysqltest: %w", err)
	}
	args := []string{
		"--no-defaults", // must come first
		"--datadir=" + dataDir,
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
		"--skip-name-resolve",
	}
	args = append(args, sizeFlags...)
	args = append(args, userFlags()...)
	out, err := exec.CommandContext(ctx, installDB, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mysqltest: %s: %w; output:\n%s", installDB, err, out)
	}
	return nil
}

// userFlags lets mariadbd run as root, which it refuses without being told
// --user=root. As anyone else it simply runs as that user.
func userFlags() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

// socketPath returns a unix socket path in dir or, if that would be too long
// for sun_path, in a new short temporary directory that the caller removes.
func socketPath(dir string) (socket, madeDir string, err error) {
	socket = filepath.Join(dir, "mariadbd.sock")
	if len(socket) <= maxSocketPath {
		return socket, "", nil
	}
	madeDir, err = os.MkdirTemp("", "mdb")
	if err != nil {
		return "", "", fmt.Errorf("mysqltest: %w", err)
	}
	socket = filepath.Join(madeDir, "mariadbd.sock")
	if len(socket) > maxSocketPath {
		os.RemoveAll(madeDir)
		return "", "", fmt.Errorf("mysqltest: temporary directory %s too long for a unix socket; set TMPDIR", madeDir)
	}
	return socket, madeDir, nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before mariadbd binds it; Start retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("mysqltest: find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
