// Package sqlstore implements pigeonhole.Store on database/sql for the SQL
// engines we support, which differ only in their Dialect: the schema, the
// paging query, the per-chat locking and the group commit are shared.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// DefaultStallAfter is Options.StallAfter when not set.
const DefaultStallAfter = 10 * time.Millisecond

// DefaultQueueDepth is Options.QueueDepth when not set.
const DefaultQueueDepth = 4096

// Options tune a Store. Zero fields take defaults.
type Options struct {
	// Now is the clock send times are taken from (default time.Now).
	Now func() time.Time
	// Lanes is the most append transactions running at once (default 1).
	// A second one starts only when the newest running one has run for
	// StallAfter, and never takes a chat a running one holds.
	Lanes int
	// StallAfter is how long a running append transaction may hold up
	// appends to other chats (default DefaultStallAfter).
	StallAfter time.Duration
	// MaxBatch is the most appends coalesced into one transaction
	// (default 256).
	MaxBatch int
	// MaxBatchBytes bounds the text of one transaction's appends, so that
	// its statements stay well inside the server's largest packet (MySQL's
	// max_allowed_packet defaults to 16 MiB on MariaDB 10.11 and 64 MiB on
	// MySQL 8); a single larger append still goes alone (default 4 MiB).
	MaxBatchBytes int
	// Observer receives timings of commits and range reads (optional).
	Observer Observer
	// QueueDepth is the most appends waiting for a transaction to take
	// them; past it, Append fails fast with unavailable (overloaded)
	// instead of waiting (default DefaultQueueDepth).
	QueueDepth int
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lanes <= 0 {
		o.Lanes = 1
	}
	if o.StallAfter <= 0 {
		o.StallAfter = DefaultStallAfter
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 4 << 20
	}
	if o.QueueDepth <= 0 {
		o.QueueDepth = DefaultQueueDepth
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	return o
}

// Observer is told how long each commit and each range read took.
type Observer interface {
	// ObserveCommit is called once per append transaction with the number
	// of messages it carried.
	ObserveCommit(batch int, d time.Duration, err error)
	// ObserveRange is called once per range read.
	ObserveRange(d time.Duration, err error)
}

type noObserver struct{}

func (noObserver) ObserveCommit(int, time.Duration, error) {}
func (noObserver) ObserveRange(time.Duration, error)       {}

// Store is a pigeonhole.Store over one SQL database. Writes go through
// write, reads through read (they may be the same pool).
type Store struct {
	write   *sql.DB
	read    *sql.DB
	dialect Dialect
	opts    Options
	rangeQ  [2]*sql.Stmt // forward, reverse
	headsQ  *sql.Stmt
	heads   *headReader
	stmts   *statements // of the append transaction
	commit  *groupCommit
	spread  *spreader
	closed  atomic.Bool
}

var _ pigeonhole.Store = (*Store)(nil)

// New returns a store over migrated pools. It takes ownership of both pools
// and closes them on Close.
func New(write, read *sql.DB, dialect Dialect, opts Options) (*Store, error) {
	s := &Store{write: write, read: read, dialect: dialect, opts: opts.withDefaults()}
	// The primary key (chat, send_time) makes both a range scan whose cost
	// depends on the page size only: no OFFSET, no sort, no count. They are
	// prepared once (per connection, by database/sql): a page read is then
	// one round trip that the server does not parse again.
	for i, q := range []string{
		"SELECT send_time, sender, text, client_msg_id FROM chat_messages WHERE chat = ? AND send_time >= ? ORDER BY send_time ASC LIMIT ?",
		"SELECT send_time, sender, text, client_msg_id FROM chat_messages WHERE chat = ? AND send_time <= ? ORDER BY send_time DESC LIMIT ?",
	} {
		stmt, err := read.Prepare(q)
		if err != nil {
			return nil, fmt.Errorf("%s: prepare: %w", dialect.Name, err)
		}
		s.rangeQ[i] = stmt
	}
	// Served by the index on chats (last_send_time), which holds the
	// chat: one index range scan as long as the answer.
	heads, err := read.Prepare("SELECT chat, last_send_time FROM chats WHERE last_send_time >= ? ORDER BY last_send_time DESC LIMIT ?")
	if err != nil {
		return nil, fmt.Errorf("%s: prepare: %w", dialect.Name, err)
	}
	s.headsQ = heads
	one, err := read.Prepare("SELECT last_send_time FROM chats WHERE chat = ?")
	if err != nil {
		return nil, fmt.Errorf("%s: prepare: %w", dialect.Name, err)
	}
	s.heads = &headReader{one: one, read: s.readHeads}
	s.stmts = newStatements(write)
	s.commit = newGroupCommit(s.opts, s.appendBatch)
	s.spread = newSpreader(s.updateActivity)
	return s, nil
}

// Append implements pigeonhole.Store through the group commit: it returns
// once the transaction holding m has committed and, for a group, its
// members' inbox rows have moved (see spreader).
func (s *Store) Append(ctx context.Context, m pigeonhole.Message) (pigeonhole.Message, error) {
	stored, err := s.commit.append(ctx, m)
	if err == nil && stored.Chat.IsGroup() && stored.SendTime > 0 {
		s.spread.spread(ctx, stored)
	}
	return stored, err
}

// Range implements pigeonhole.Store.
func (s *Store) Range(ctx context.Context, q pigeonhole.Range) ([]pigeonhole.Message, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	start := time.Now()
	msgs, err := s.rangeRows(ctx, q)
	s.opts.Observer.ObserveRange(time.Since(start), err)
	return msgs, err
}

func (s *Store) rangeRows(ctx context.Context, q pigeonhole.Range) ([]pigeonhole.Message, error) {
	stmt := s.rangeQ[0]
	if q.Reverse {
		stmt = s.rangeQ[1]
	}
	rctx, err := s.shortRead(ctx)
	if err != nil {
		return nil, s.translate(ctx, err)
	}
	rows, err := stmt.QueryContext(rctx, q.Chat.String(), q.From, q.Limit)
	if err != nil {
		return nil, s.translate(ctx, err)
	}
	defer rows.Close()
	// Rows are read one at a time and the read stops at the byte budget:
	// SQLite steps no further; the MySQL driver discards the rest of the
	// result as it arrives on Close, never holding it.
	out := make([]pigeonhole.Message, 0, min(q.Limit, 128))
	textBytes := 0
	for !q.Done(len(out), textBytes) && rows.Next() {
		m := pigeonhole.Message{Chat: q.Chat}
		var key sql.NullString
		if err := rows.Scan(&m.SendTime, &m.Sender, &m.Text, &key); err != nil {
			return nil, s.translate(ctx, err)
		}
		m.ClientMsgID = key.String
		out = append(out, m)
		textBytes += len(m.Text)
	}
	if err := rows.Err(); err != nil {
		return nil, s.translate(ctx, err)
	}
	return out, nil
}

// Heads implements pigeonhole.Store.
func (s *Store) Heads(ctx context.Context, since int64, limit int) ([]pigeonhole.ChatHead, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	rctx, err := s.shortRead(ctx)
	if err != nil {
		return nil, s.translate(ctx, err)
	}
	rows, err := s.headsQ.QueryContext(rctx, since, limit)
	if err != nil {
		return nil, s.translate(ctx, err)
	}
	defer rows.Close()
	var out []pigeonhole.ChatHead
	for rows.Next() {
		var chat string
		var h pigeonhole.ChatHead
		if err := rows.Scan(&chat, &h.LastSendTime); err != nil {
			return nil, s.translate(ctx, err)
		}
		// A chat no request can name (stored under rules since changed)
		// has no waiters: it is left out rather than failing the look.
		if h.Chat, err = pigeonhole.ParseChatID(chat); err == nil {
			out = append(out, h)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.translate(ctx, err)
	}
	return out, nil
}

// Ping implements pigeonhole.Store.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return errClosed
	}
	if err := s.write.PingContext(ctx); err != nil {
		return s.translate(ctx, err)
	}
	if s.read != s.write {
		if err := s.read.PingContext(ctx); err != nil {
			return s.translate(ctx, err)
		}
	}
	return nil
}

// Stats reports the write pool's statistics (for metrics).
func (s *Store) Stats() sql.DBStats { return s.write.Stats() }

// Close stops the group commit (failing queued appends with unavailable)
// and closes the pools. Calls after the first do nothing.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.commit.close()
	err := errors.Join(s.rangeQ[0].Close(), s.rangeQ[1].Close(), s.headsQ.Close(), s.heads.one.Close(), s.stmts.close(), s.write.Close())
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// shortRead is the context a short read of ctx's caller runs in: ctx, or
// where the dialect's reads are local (Dialect.LocalReads), ctx without its
// cancellation once it is known not to have ended. With a context that can
// end, database/sql and modernc's SQLite driver each start a goroutine per
// statement to watch it: measured, a seventh of the replica's CPU per
// newest-page pull on the embedded store (docs/performance.md). Such a
// read (one row by primary key, a range of at most a page, or the
// notifier's bounded look at the newest chats) takes microseconds in
// process; it is not worth interrupting.
func (s *Store) shortRead(ctx context.Context) (context.Context, error) {
	if !s.dialect.LocalReads {
		return ctx, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// translate maps an error once: context ends first, then the dialect's
// driver error numbers.
func (s *Store) translate(ctx context.Context, err error) error {
	var perr *pigeonhole.Error
	switch {
	case errors.As(err, &perr):
		return err
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return pigeonhole.Wrap(pigeonhole.CodeDeadlineExceeded, err, "the request timed out")
	}
	return s.dialect.TranslateError(fmt.Errorf("%s: %w", s.dialect.Name, err))
}
