package sqlstore

import (
	"context"
	"database/sql"
	"io/fs"
)

// Dialect is what differs between the SQL engines behind Store. Every
// statement it produces uses placeholders.
type Dialect struct {
	// Name names the engine in logs and errors.
	Name string
	// EnsureChats returns a statement that creates the chats rows for n
	// chat ids (one placeholder each, in the order given) with
	// last_send_time 0 unless they exist, and locks each of them, by
	// primary key, until the transaction ends (where the engine locks
	// rows; SQLite's write transaction locks the whole database).
	EnsureChats func(n int) string
	// SetLastSendTimes returns a statement that sets last_send_time of n
	// existing chats rows by primary key, from (chat, last_send_time)
	// placeholder pairs.
	SetLastSendTimes func(n int) string
	// TranslateError maps a driver error to a *pigeonhole.Error by error
	// number, never by message. It is called once, here, for every error.
	TranslateError func(error) error
	// Retryable reports whether a failed append transaction may be run
	// again as a whole (deadlock, lock wait timeout, busy).
	Retryable func(error) bool
	// Migrations holds the versioned schema files, named
	// migrations/NNNN_name.sql.
	Migrations fs.FS
	// LockMigrations serialises migration runs across processes on conn,
	// and returns the function that releases the lock; ok tells whether
	// every migration succeeded (an engine with transactional DDL commits
	// only then).
	LockMigrations func(ctx context.Context, conn *sql.Conn) (release func(ok bool), err error)
}
