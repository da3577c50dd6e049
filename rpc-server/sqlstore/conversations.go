package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// maxRowsPerInsert bounds the rows of one multi-row INSERT of members, so
// that its placeholders stay far below every engine's limit.
const maxRowsPerInsert = 500

// updateActivity moves a group's members' inbox rows to activity; a row
// only moves forward, so racing updates leave the newest.
func (s *Store) updateActivity(ctx context.Context, chat string, activity int64) error {
	_, err := s.write.ExecContext(ctx, "UPDATE chat_members SET activity = ? WHERE chat = ? AND activity < ?", activity, chat, activity)
	return err
}

// CreateGroup implements pigeonhole.Conversations.
func (s *Store) CreateGroup(ctx context.Context, g pigeonhole.Group) (pigeonhole.Group, error) {
	if s.closed.Load() {
		return pigeonhole.Group{}, errClosed
	}
	g.CreatedAt = s.opts.Now().UnixMicro()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		chat := g.Chat.String()
		// The chats row is what appends and membership changes lock.
		if _, err := tx.ExecContext(ctx, "INSERT INTO chats (chat, last_send_time) VALUES (?, 0)", chat); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO chat_groups (chat, title, owner, created_at) VALUES (?, ?, ?, ?)",
			chat, g.Title, g.Owner, g.CreatedAt); err != nil {
			return err
		}
		return insertMembers(ctx, tx, chat, g.Members, g.CreatedAt, 0)
	})
	if err != nil {
		return pigeonhole.Group{}, s.translate(ctx, err)
	}
	return g, nil
}

// insertMembers adds members' inbox rows to chat.
func insertMembers(ctx context.Context, tx *sql.Tx, chat string, members []string, activity, readUpTo int64) error {
	for rest := members; len(rest) > 0; {
		n := min(len(rest), maxRowsPerInsert)
		args := make([]any, 0, 4*n)
		for _, id := range rest[:n] {
			args = append(args, chat, id, activity, readUpTo)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO chat_members (chat, member, activity, read_up_to) VALUES "+repeatJoin("(?, ?, ?, ?)", n), args...); err != nil {
			return err
		}
		rest = rest[n:]
	}
	return nil
}

// Group implements pigeonhole.Conversations.
func (s *Store) Group(ctx context.Context, chat pigeonhole.ChatID) (pigeonhole.Group, error) {
	if s.closed.Load() {
		return pigeonhole.Group{}, errClosed
	}
	// From the write pool: membership decides who may read a chat, so it
	// must not come from a replica that may lag behind a removal.
	g, err := readGroup(ctx, s.write, chat)
	if err != nil {
		return pigeonhole.Group{}, s.translate(ctx, err)
	}
	return g, nil
}

// querier is what reads need of a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readGroup reads a group and its members; not_found if there is none.
func readGroup(ctx context.Context, q querier, chat pigeonhole.ChatID) (pigeonhole.Group, error) {
	g := pigeonhole.Group{Chat: chat}
	err := q.QueryRowContext(ctx, "SELECT title, owner, created_at FROM chat_groups WHERE chat = ?", chat.String()).
		Scan(&g.Title, &g.Owner, &g.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return pigeonhole.Group{}, pigeonhole.Errorf(pigeonhole.CodeNotFound, "chat %s does not exist", pigeonhole.Quote(chat.String()))
	}
	if err != nil {
		return pigeonhole.Group{}, err
	}
	g.Members, err = readMembers(ctx, q, chat.String())
	return g, err
}

// readMembers reads a chat's members in byte order.
func readMembers(ctx context.Context, q querier, chat string) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT member FROM chat_members WHERE chat = ? ORDER BY member", chat)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var members []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		members = append(members, id)
	}
	return members, rows.Err()
}

// ChangeGroup implements pigeonhole.Conversations. It locks the group's
// chats row first, as appends do, so the change and every append to the
// group are serialised.
func (s *Store) ChangeGroup(ctx context.Context, chat pigeonhole.ChatID, change func(pigeonhole.Group) (pigeonhole.Group, error)) (pigeonhole.Group, error) {
	if s.closed.Load() {
		return pigeonhole.Group{}, errClosed
	}
	var changed pigeonhole.Group
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		id := chat.String()
		var last int64
		if err := tx.QueryRowContext(ctx, "SELECT last_send_time FROM chats WHERE chat = ? "+s.dialect.LockRow, id).Scan(&last); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return pigeonhole.Errorf(pigeonhole.CodeNotFound, "chat %s does not exist", pigeonhole.Quote(id))
			}
			return err
		}
		g, err := readGroup(ctx, tx, chat)
		if err != nil {
			return err
		}
		if changed, err = change(g); err != nil {
			return err
		}
		var added, removed []string
		for _, m := range changed.Members {
			if !g.HasMember(m) {
				added = append(added, m)
			}
		}
		for _, m := range g.Members {
			if !changed.HasMember(m) {
				removed = append(removed, m)
			}
		}
		for rest := removed; len(rest) > 0; {
			n := min(len(rest), maxRowsPerInsert)
			args := []any{id}
			for _, m := range rest[:n] {
				args = append(args, m)
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM chat_members WHERE chat = ? AND member IN ("+repeatJoin("?", n)+")", args...); err != nil {
				return err
			}
			rest = rest[n:]
		}
		// A new member finds the group at its last activity, with the
		// history before they joined counted as read.
		if err := insertMembers(ctx, tx, id, added, max(last, g.CreatedAt), last); err != nil {
			return err
		}
		if changed.Owner != g.Owner || changed.Title != g.Title {
			if _, err := tx.ExecContext(ctx, "UPDATE chat_groups SET owner = ?, title = ? WHERE chat = ?", changed.Owner, changed.Title, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return pigeonhole.Group{}, s.translate(ctx, err)
	}
	return changed, nil
}

// inTx runs fn in a write transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// unread counts the messages from others after readUpTo, reading at most
// MaxUnread+1 entries of the chat's primary key. Sending moves the
// sender's marker, so what follows a marker is (but for a batch's own
// order) from others.
func (s *Store) unread(ctx context.Context, chat, member string, readUpTo int64) (int, bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT sender FROM chat_messages WHERE chat = ? AND send_time > ?"+
		" ORDER BY send_time LIMIT ?) AS u WHERE u.sender <> ?", chat, readUpTo, pigeonhole.MaxUnread+1, member).Scan(&n)
	if err != nil {
		return 0, false, err
	}
	n, capped := pigeonhole.UnreadCount(n)
	return n, capped, nil
}

// MarkRead implements pigeonhole.Conversations. The marker moves in one
// statement that keeps the larger value, so racing calls leave the
// furthest one.
func (s *Store) MarkRead(ctx context.Context, chat pigeonhole.ChatID, member string, sendTime int64) (pigeonhole.ReadState, error) {
	if s.closed.Load() {
		return pigeonhole.ReadState{}, errClosed
	}
	st, err := s.markRead(ctx, chat, member, sendTime)
	if err != nil {
		return pigeonhole.ReadState{}, s.translate(ctx, err)
	}
	return st, nil
}

func (s *Store) markRead(ctx context.Context, chat pigeonhole.ChatID, member string, sendTime int64) (pigeonhole.ReadState, error) {
	id := chat.String()
	var last int64
	if err := s.write.QueryRowContext(ctx, "SELECT last_send_time FROM chats WHERE chat = ?", id).Scan(&last); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return pigeonhole.ReadState{}, err
	}
	if _, err := s.write.ExecContext(ctx, "UPDATE chat_members SET read_up_to = "+s.dialect.Greatest+"(read_up_to, ?) WHERE chat = ? AND member = ?",
		min(sendTime, last), id, member); err != nil {
		return pigeonhole.ReadState{}, err
	}
	var st pigeonhole.ReadState
	err := s.write.QueryRowContext(ctx, "SELECT read_up_to FROM chat_members WHERE chat = ? AND member = ?", id, member).Scan(&st.ReadUpTo)
	switch {
	case errors.Is(err, sql.ErrNoRows) && chat.IsGroup():
		if _, err := readGroup(ctx, s.write, chat); err != nil {
			return pigeonhole.ReadState{}, err
		}
		return pigeonhole.ReadState{}, pigeonhole.Errorf(pigeonhole.CodePermissionDenied, "%s is not a member of chat %s", pigeonhole.Quote(member), pigeonhole.Quote(id))
	case errors.Is(err, sql.ErrNoRows):
		return pigeonhole.ReadState{}, nil // a two-member chat without messages
	case err != nil:
		return pigeonhole.ReadState{}, err
	}
	st.Unread, st.UnreadCapped, err = s.unread(ctx, id, member, st.ReadUpTo)
	return st, err
}
