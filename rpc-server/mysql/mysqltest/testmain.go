package mysqltest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables read by NewDSN.
const (
	// EnvDSN names an existing server to use instead of starting mariadbd: a
	// go-sql-driver DSN whose user may CREATE and DROP DATABASE.
	EnvDSN = "PIGEONHOLE_TEST_MYSQL_DSN"
	// EnvRequire set to 1 makes NewDSN fail tests, rather than skip them,
	// when no server is available.
	EnvRequire = "PIGEONHOLE_REQUIRE_MYSQL"
)

const (
	startTimeout = 2 * time.Minute
	dropTimeout  = 30 * time.Second
)

// shared is the one server of this test binary. It is package state because
// TestMain and the tests it runs share nothing else: Main marks the binary
// as managed, the first NewDSN starts or connects to the server, and Main
// stops it after the tests.
var shared struct {
	mu      sync.Mutex
	managed bool    // Main is running, so someone will stop the server
	tried   bool    // the server below was started or attempted
	server  *Server // nil if unavailable
	dir     string  // temporary directory of a server we started
	err     error   // why server is nil
	fatal   bool    // err fails tests even without EnvRequire
}

// Main runs a package's tests with a MariaDB server available to NewDSN and
// exits with their result. Call it from TestMain:
//
//	func TestMain(m *testing.M) { mysqltest.Main(m) }
//
// The server starts on the first NewDSN, so packages whose tests all skip
// pay nothing, and is stopped and its directory removed after m.Run. If the
// test binary dies first, mariadbd gets SIGTERM from the kernel (on Linux).
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) (code int) {
	shared.mu.Lock()
	shared.managed = true
	shared.mu.Unlock()
	defer func() {
		if err := stopShared(); err != nil {
			fmt.Fprintf(os.Stderr, "mysqltest: stopping the test server: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}()
	return m.Run()
}

// NewDSN creates a database, named after the test with a random suffix, with
// character set utf8mb4 and collation utf8mb4_bin, and returns a DSN for it
// as described on Server.DSN. The database is dropped when the test ends.
// The package's TestMain must call Main. Without a server (EnvDSN unset and
// mariadbd not installed or not starting) NewDSN skips the test, or fails it
// if EnvRequire is 1; a set but unusable EnvDSN always fails it.
func NewDSN(tb testing.TB) string {
	tb.Helper()
	s, err := sharedServer(tb)
	if err != nil {
		tb.Fatal(err)
	}
	name := databaseName(tb.Name())
	if err := s.CreateDatabase(tb.Context(), name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
		defer cancel()
		if err := s.DropDatabase(ctx, name); err != nil {
			tb.Error(err)
		}
	})
	return s.DSN(name)
}

// sharedServer returns the binary's server, starting it on first use. It
// skips tb when no server is available and that is allowed.
func sharedServer(tb testing.TB) (*Server, error) {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.managed {
		return nil, errors.New("mysqltest: NewDSN needs the package's TestMain to call mysqltest.Main")
	}
	if !shared.tried {
		shared.tried = true
		start := time.Now()
		shared.server, shared.dir, shared.err = openShared()
		shared.fatal = shared.err != nil && os.Getenv(EnvDSN) != ""
		if shared.err == nil {
			tb.Logf("mysqltest: server ready in %v", time.Since(start).Round(time.Millisecond))
		}
	}
	if shared.err == nil {
		return shared.server, nil
	}
	if shared.fatal || os.Getenv(EnvRequire) == "1" {
		return nil, fmt.Errorf("no MySQL server for tests: %w", shared.err)
	}
	tb.Skipf("no MySQL server for tests (%v). To run these tests install Debian's mariadb-server "+
		"(apt-get install mariadb-server) or set %s to a DSN whose user may CREATE and DROP DATABASE; "+
		"set %s=1 to fail instead of skipping.", shared.err, EnvDSN, EnvRequire)
	return nil, nil // not reached: Skipf stops the test
}

// openShared connects to EnvDSN or starts mariadbd in a new temporary
// directory, which it returns for removal.
func openShared() (*Server, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		s, err := Connect(ctx, dsn)
		if err != nil {
			return nil, "", fmt.Errorf("%s is set but unusable: %w", EnvDSN, err)
		}
		return s, "", nil
	}
	dir, err := os.MkdirTemp("", "pigeonhole-mariadb-")
	if err != nil {
		return nil, "", err
	}
	s, err := Start(ctx, dir)
	if err != nil {
		return nil, "", errors.Join(err, os.RemoveAll(dir))
	}
	return s, dir, nil
}

// stopShared stops the binary's server, if any, and removes its directory.
func stopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	var err error
	if shared.server != nil {
		err = shared.server.Stop()
	}
	if shared.dir != "" {
		err = errors.Join(err, os.RemoveAll(shared.dir))
	}
	shared.server, shared.dir, shared.tried, shared.managed = nil, "", false, false
	return err
}

// databaseName turns a test name into a valid, unique database name:
// "t_", the lower-cased name with every character other than [a-z0-9_]
// replaced by '_' and cut to 40 bytes, '_', and 12 random characters of
// [a-z2-7] (60 bits, so parallel packages sharing EnvDSN do not collide).
func databaseName(testName string) string {
	const maxTestPart = 40
	var b strings.Builder
	b.WriteString("t_")
	for i, r := range []rune(strings.ToLower(testName)) {
		if i == maxTestPart {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	b.WriteByte('_')
	b.WriteString(strings.ToLower(rand.Text()[:12]))
	return b.String()
}
