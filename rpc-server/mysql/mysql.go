// Package mysql is the production message store on MySQL 8 or MariaDB
// 10.11 (and MySQL-compatible engines): one pooled *sql.DB per process,
// utf8mb4 throughout, placeholders only, versioned migrations.
package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultCommitLanes is the most append transactions a MySQL store runs at
// once when Options.Lanes is not set: a second one starts only when the
// first is held up (see sqlstore.Options.Lanes).
const DefaultCommitLanes = 2

// Options tune the connection pool and the group commit.
type Options struct {
	sqlstore.Options
	// MaxOpenConns bounds the pool (default 64).
	MaxOpenConns int
}

// Open connects to the database named in dsn (go-sql-driver format),
// migrates it and returns the store.
func Open(ctx context.Context, dsn string, opts Options) (*sqlstore.Store, error) {
	return open(ctx, dsn, opts, dialect())
}

// open is Open with the dialect d (a test runs the one-statement-at-a-time
// append on MySQL through it).
func open(ctx context.Context, dsn string, opts Options, d sqlstore.Dialect) (*sqlstore.Store, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: bad DSN: %w", err)
	}
	// utf8mb4 on the connection, so 4-byte characters survive; the
	// driver escapes placeholders itself, saving a prepare round trip per
	// statement; an append sends its statements in two round trips
	// (Dialect.MultiStatements). Every value still goes through a
	// placeholder.
	cfg.Collation = "utf8mb4_bin"
	cfg.InterpolateParams = true
	cfg.MultiStatements = true
	cfg.ParseTime = false
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	db := sql.OpenDB(readCommitted{connector})
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 64
	}
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxOpenConns)
	db.SetConnMaxLifetime(5 * time.Minute)
	db.SetConnMaxIdleTime(time.Minute)

	if err := sqlstore.Migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, d.TranslateError(fmt.Errorf("mysql: %w", err))
	}
	if opts.Lanes <= 0 {
		opts.Lanes = DefaultCommitLanes
	}
	s, err := sqlstore.New(db, db, d, opts.Options)
	if err != nil {
		db.Close()
		return nil, d.TranslateError(err)
	}
	return s, nil
}

func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name: "mysql",
		// ON DUPLICATE KEY UPDATE takes each row's exclusive lock at once,
		// by primary key (INSERT IGNORE would take a shared one and
		// deadlock on upgrade; SELECT ... IN (...) FOR UPDATE may scan and
		// wait on other chats' rows).
		KeepExisting:    "ON DUPLICATE KEY UPDATE last_send_time = last_send_time",
		ReplaceExisting: "ON DUPLICATE KEY UPDATE last_send_time = VALUES(last_send_time)",
		MergeInboxRow:   "ON DUPLICATE KEY UPDATE activity = GREATEST(activity, VALUES(activity)), read_up_to = GREATEST(read_up_to, VALUES(read_up_to))",
		Greatest:        "GREATEST",
		UseInboxIndex:   "FORCE INDEX (chat_members_inbox)",
		LockRow:         "FOR UPDATE",
		// A derived table of SELECTs is the row list MySQL 5.7 and 8,
		// MariaDB and TiDB all accept.
		KeyRows: func(n int) string {
			return "(SELECT ? AS chat, ? AS sender, ? AS client_msg_id" +
				strings.Repeat(" UNION ALL SELECT ?, ?, ?", n-1) + ") AS k"
		},
		UseIdempotencyIndex: "FORCE INDEX (chat_messages_idempotency)",
		MultiStatements:     true,
		ShareHeadReads:      true,
		TranslateError:      translateError,
		Retryable: func(err error) bool {
			var e *mysql.MySQLError
			return errors.As(err, &e) && (e.Number == errDeadlock || e.Number == errLockWaitTimeout)
		},
		Migrations: migrations,
		LockMigrations: func(ctx context.Context, conn *sql.Conn) (func(bool) error, error) {
			var got sql.NullInt64
			if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", "pigeonhole.migrate", 60).Scan(&got); err != nil {
				return nil, err
			}
			if got.Int64 != 1 {
				return nil, errors.New("timed out waiting for another replica's migration")
			}
			return func(bool) error {
				_, err := conn.ExecContext(context.Background(), "SELECT RELEASE_LOCK(?)", "pigeonhole.migrate")
				return err
			}, nil
		},
	}
}

// readCommitted opens connections in READ COMMITTED: each statement of an
// append sees the newest committed rows (the idempotency lookup after the
// chat lock must see what the lock's previous holder committed), and no gap
// locks are taken. The statement is the same on MySQL and MariaDB, whose
// session variables for it are named differently.
type readCommitted struct{ driver.Connector }

func (c readCommitted) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.(driver.ExecerContext).ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// MySQL and MariaDB server error numbers we act on.
const (
	errDuplicateEntry   = 1062
	errLockWaitTimeout  = 1205
	errDeadlock         = 1213
	errTooManyConns     = 1040
	errServerShutdown   = 1053
	errAccessDenied     = 1045
	errUnknownDatabase  = 1049
	errQueryInterrupted = 1317
	errReadOnly         = 1290
)

// translateError maps driver errors to domain errors by error number.
func translateError(err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case errDuplicateEntry:
			return pigeonhole.Wrap(pigeonhole.CodeConflict, err, "the message conflicts with a stored one")
		case errLockWaitTimeout, errDeadlock, errTooManyConns, errServerShutdown, errQueryInterrupted, errReadOnly:
			return pigeonhole.Wrap(pigeonhole.CodeUnavailable, err, "the message store is busy; retry shortly")
		case errAccessDenied, errUnknownDatabase:
			return pigeonhole.Wrap(pigeonhole.CodeUnavailable, err, "the message store is unavailable")
		}
		return pigeonhole.Wrap(pigeonhole.CodeInternal, err, "internal error")
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, driver.ErrBadConn) {
		return pigeonhole.Wrap(pigeonhole.CodeUnavailable, err, "the message store is unavailable")
	}
	return pigeonhole.Wrap(pigeonhole.CodeInternal, err, "internal error")
}

// RedactDSN returns dsn with its password masked, for logs.
func RedactDSN(dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "(unparseable DSN)"
	}
	if cfg.Passwd != "" {
		cfg.Passwd = "xxxxx"
	}
	return cfg.FormatDSN()
}
