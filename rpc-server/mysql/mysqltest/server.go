// Package mysqltest gives tests and tools a real MariaDB (or MySQL) server.
//
// Tests call Main from their package's TestMain and NewDSN once per test for
// a fresh database. The server is the one named by PIGEONHOLE_TEST_MYSQL_DSN
// or, when that is unset, a throwaway mariadbd from the local installation
// (Debian's mariadb-server) that lives in a temporary directory for as long
// as the test binary runs.
//
// Programs such as the load tool use Start (or Connect), CreateDatabase, DSN
// and Stop directly.
package mysqltest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// dialTimeout bounds connection set-up in every DSN this package hands out
// unless the DSN given to Connect already sets one.
const dialTimeout = 5 * time.Second

// validName is the whole grammar of database names this package accepts.
// CREATE DATABASE takes no placeholders, so the name is spliced into the
// statement; with only these characters it cannot escape its backticks.
var validName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// maxNameLen is MariaDB's limit on identifier length.
const maxNameLen = 64

// Server is a MariaDB or MySQL server on which databases can be created and
// dropped. It is either a mariadbd process started by Start, which Stop
// terminates, or an existing server attached by Connect, which Stop leaves
// running. A Server is safe for concurrent use.
type Server struct {
	base  *mysql.Config // admin account and address; DBName is empty
	admin *sql.DB       // pool for CREATE and DROP DATABASE
	proc  *process      // nil for a server attached by Connect
}

// Connect attaches to an already running server through dsn, a
// go-sql-driver DSN whose user may CREATE and DROP DATABASE. A database named
// in dsn is ignored. It returns an error if the server cannot be reached
// before ctx ends.
func Connect(ctx context.Context, dsn string) (*Server, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysqltest: parse DSN: %w", err)
	}
	cfg.DBName = ""
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.admin.PingContext(ctx); err != nil {
		s.admin.Close()
		return nil, fmt.Errorf("mysqltest: connect to %s: %w", cfg.Addr, err)
	}
	return s, nil
}

// newServer wraps an admin configuration without touching the network.
func newServer(cfg *mysql.Config) (*Server, error) {
	cfg = cfg.Clone()
	if cfg.Timeout == 0 {
		cfg.Timeout = dialTimeout
	}
	adminCfg := cfg.Clone()
	// The driver logs refused connections while a server is still starting;
	// the errors reach the caller anyway.
	adminCfg.Logger = &mysql.NopLogger{}
	connector, err := mysql.NewConnector(adminCfg)
	if err != nil {
		return nil, fmt.Errorf("mysqltest: %w", err)
	}
	admin := sql.OpenDB(connector)
	admin.SetMaxOpenConns(4)
	return &Server{base: cfg, admin: admin}, nil
}

// DSN returns a go-sql-driver DSN for database on s, with charset=utf8mb4,
// parseTime=false, a dial timeout and interpolateParams left off. It does
// not check that database exists.
func (s *Server) DSN(database string) string {
	cfg := s.base.Clone()
	cfg.DBName = database
	cfg.ParseTime = false
	cfg.InterpolateParams = false
	if err := cfg.Apply(mysql.Charset("utf8mb4", "")); err != nil {
		panic(err) // Charset never fails; a driver that changes that must be looked at.
	}
	dsn := cfg.FormatDSN()
	// FormatDSN leaves out options at their default; spell parseTime out so
	// a reader of the DSN need not know the driver's defaults.
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "parseTime=false"
}

// CreateDatabase creates database name with character set utf8mb4 and
// collation utf8mb4_bin. name must match ^[A-Za-z0-9_]+$ and be at most 64
// bytes long. It returns an error if the database already exists.
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	_, err := s.admin.ExecContext(ctx,
		"CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	if err != nil {
		return fmt.Errorf("mysqltest: create database %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops database name and everything in it. Dropping a
// database that does not exist is not an error. name must satisfy the rules
// of CreateDatabase.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if _, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
		return fmt.Errorf("mysqltest: drop database %s: %w", name, err)
	}
	return nil
}

// Stop closes s's connections and, for a server started by Start, sends
// mariadbd SIGTERM and waits for it to exit (killing it if it has not exited
// after a minute). It does not remove the directory given to Start. Calling
// Stop again is harmless.
func (s *Server) Stop() error {
	err := s.admin.Close()
	if s.proc != nil {
		err = errors.Join(err, s.proc.stop())
	}
	return err
}

// checkName enforces the identifier rules documented on CreateDatabase.
func checkName(name string) error {
	if len(name) > maxNameLen || !validName.MatchString(name) {
		return fmt.Errorf("mysqltest: invalid database name %q: want 1 to %d of [A-Za-z0-9_]", name, maxNameLen)
	}
	return nil
}
