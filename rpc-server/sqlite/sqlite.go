// Package sqlite is the embedded message store: SQLite in one file through
// the pure-Go modernc.org/sqlite driver, so no server and no C toolchain are
// needed. It runs in WAL mode with synchronous=FULL, so an acknowledged send
// survives a crash or power loss.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "pigeonhole.db"

// Open opens (creating if needed) the store in dir and migrates it. Several
// stores may open the same dir at once; SQLite's file lock serialises their
// writes.
func Open(ctx context.Context, dir string, opts sqlstore.Options) (*sqlstore.Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// One writer connection: SQLite has one writer at a time anyway, and
	// the group commit batches behind it. BEGIN IMMEDIATE takes the write
	// lock up front, so concurrent processes queue on busy_timeout instead
	// of failing to upgrade a read lock.
	//
	// The writer keeps the statement journal (each multi-row statement's
	// undo, should it fail halfway) in memory: in a temporary file, its
	// writes were 12% of the replica's CPU per send; durability rests on
	// the WAL, fsynced at each commit, alone. It checkpoints the WAL every
	// 10,000 pages instead of 1,000: a batch of sends to many chats writes
	// ~6 pages per message, most of them the same hot pages again, and a
	// checkpoint (which runs inside a commit, holding up every send queued
	// behind it) copies each page once however often it was written
	// since; the writer's reads went from ~50 to ~20 per commit.
	write, err := sql.Open("sqlite", dsn(path, "_txlock=immediate", pragma("temp_store(MEMORY)"), pragma("wal_autocheckpoint(10000)")))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	d := dialect()
	if err := sqlstore.Migrate(ctx, write, d); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn(path, pragma("query_only(1)")))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	opts.Lanes = 1
	s, err := sqlstore.New(write, read, d, opts)
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	return s, nil
}

func dsn(path string, extra ...string) string {
	q := append([]string{pragma("busy_timeout(10000)"), pragma("journal_mode(WAL)"), pragma("synchronous(FULL)")}, extra...)
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + strings.Join(q, "&")
}

// pragma is the DSN parameter that runs PRAGMA p on every new connection.
func pragma(p string) string { return "_pragma=" + url.QueryEscape(p) }

func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:            "sqlite",
		LocalReads:      true,
		KeepExisting:    "ON CONFLICT (chat) DO NOTHING",
		ReplaceExisting: "ON CONFLICT (chat) DO UPDATE SET last_send_time = excluded.last_send_time",
		MergeInboxRow:   "ON CONFLICT (chat, member) DO UPDATE SET activity = MAX(activity, excluded.activity), read_up_to = MAX(read_up_to, excluded.read_up_to)",
		Greatest:        "MAX",
		UseInboxIndex:   "INDEXED BY chat_members_inbox",
		KeyRows: func(n int) string {
			return "(SELECT column1 AS chat, column2 AS sender, column3 AS client_msg_id FROM (VALUES (?, ?, ?)" +
				strings.Repeat(", (?, ?, ?)", n-1) + ")) AS k"
		},
		// Unhinted, SQLite joins by the primary key's chat prefix too;
		// INDEXED BY also makes the query fail rather than scan if the
		// index could not be used.
		UseIdempotencyIndex: "INDEXED BY chat_messages_idempotency",
		TranslateError:      translateError,
		Retryable: func(err error) bool {
			code, ok := errorCode(err)
			return ok && (code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED)
		},
		Migrations: migrations,
		LockMigrations: func(ctx context.Context, conn *sql.Conn) (func(bool) error, error) {
			if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
				return nil, err
			}
			return func(ok bool) error {
				if ok {
					_, err := conn.ExecContext(context.Background(), "COMMIT")
					if err == nil {
						return nil
					}
					// A failed COMMIT may leave the transaction open.
					_, rerr := conn.ExecContext(context.Background(), "ROLLBACK")
					return errors.Join(fmt.Errorf("commit: %w", err), rerr)
				}
				_, err := conn.ExecContext(context.Background(), "ROLLBACK")
				return err
			}, nil
		},
	}
}

func errorCode(err error) (int, bool) {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}

// translateError maps SQLite result codes to the domain's error codes.
func translateError(err error) error {
	code, ok := errorCode(err)
	if !ok {
		return pigeonhole.Wrap(pigeonhole.CodeInternal, err, "internal error")
	}
	switch code & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return pigeonhole.Wrap(pigeonhole.CodeUnavailable, err, "the message store is busy; retry shortly")
	case sqlite3.SQLITE_CONSTRAINT:
		return pigeonhole.Wrap(pigeonhole.CodeConflict, err, "the message conflicts with a stored one")
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY:
		return pigeonhole.Wrap(pigeonhole.CodeUnavailable, err, "the message store is unavailable")
	}
	return pigeonhole.Wrap(pigeonhole.CodeInternal, err, "internal error")
}
