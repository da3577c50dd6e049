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
	// KeepExisting ends "INSERT INTO chats (chat, last_send_time) VALUES
	// ..." so that rows that exist stay as they are, and every row is locked
	// by primary key until the transaction ends (where the engine locks
	// rows; SQLite's write transaction locks the whole database).
	KeepExisting string
	// ReplaceExisting ends the same statement so that rows that exist take
	// the inserted last_send_time.
	ReplaceExisting string
	// MergeInboxRow ends "INSERT INTO chat_members (chat, member,
	// activity, read_up_to) VALUES ..." so that a row that exists keeps
	// the larger of its activity and read_up_to and the inserted ones.
	MergeInboxRow string
	// Greatest names the function of two values that returns the larger
	// (GREATEST; SQLite's two-argument MAX).
	Greatest string
	// UseInboxIndex follows "FROM chat_members AS m" in the inbox page
	// query, so that the page is a range scan of chat_members_inbox.
	UseInboxIndex string
	// LockRow ends a SELECT of one chats row by primary key so that it
	// locks the row until the transaction ends ("FOR UPDATE"; empty where
	// the write transaction locks the database).
	LockRow string
	// KeyRows returns a table of n rows with the columns chat, sender and
	// client_msg_id, from 3n placeholders, as it follows FROM (with its
	// alias k). Engines disagree on row constructors: MySQL 8 wants
	// VALUES ROW(...), MariaDB and SQLite VALUES (...), and SQLite limits
	// UNION ALL to 500 terms.
	KeyRows func(n int) string
	// UseIdempotencyIndex follows "JOIN chat_messages AS t" in the
	// idempotency lookup, telling the planner to look keys up in
	// chat_messages_idempotency: MariaDB and SQLite otherwise join by the
	// primary key's chat prefix, reading every message of each chat.
	UseIdempotencyIndex string
	// MultiStatements tells that the connections run several statements
	// sent as one, separated by semicolons, and return their result sets
	// in turn (go-sql-driver/mysql with multiStatements): appends then
	// take two round trips instead of seven.
	MultiStatements bool
	// ShareHeadReads coalesces concurrent Head calls into one statement
	// (see headReader): worth it where a statement costs a round trip and
	// the server's fixed cost per statement, not where reads run in
	// process.
	ShareHeadReads bool
	// LocalReads runs the short reads (a chat's head, a page, the
	// notifier's look) without their caller's cancellation, where reads
	// run in process and take microseconds (see Store.shortRead).
	LocalReads bool
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
	// only then). release's error fails the migration: a commit that
	// fails has applied nothing.
	LockMigrations func(ctx context.Context, conn *sql.Conn) (release func(ok bool) error, err error)
}
