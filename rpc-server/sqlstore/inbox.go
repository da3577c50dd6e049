package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Inbox implements pigeonhole.Conversations in five statements whatever
// the page size: one range scan of the inbox index for the page, then for
// all its chats at once their newest messages (one primary-key lookup
// each), their unread counts (a primary-key range of at most MaxUnread+1
// entries each), and the groups' titles and members.
func (s *Store) Inbox(ctx context.Context, q pigeonhole.InboxRange) ([]pigeonhole.InboxEntry, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	out, err := s.inbox(ctx, q)
	if err != nil {
		return nil, s.translate(ctx, err)
	}
	return out, nil
}

func (s *Store) inbox(ctx context.Context, q pigeonhole.InboxRange) ([]pigeonhole.InboxEntry, error) {
	before := pigeonhole.InboxPosition{Activity: math.MaxInt64}
	if q.Before != nil {
		before = *q.Before
	}
	var out []pigeonhole.InboxEntry
	err := queryEach(ctx, s.read, "SELECT m.chat, m.activity, m.read_up_to FROM chat_members AS m "+s.dialect.UseInboxIndex+
		" WHERE m.member = ? AND m.activity > ? AND (m.activity < ? OR (m.activity = ? AND m.chat < ?))"+
		" ORDER BY m.activity DESC, m.chat DESC LIMIT ?",
		[]any{q.Member, q.After, before.Activity, before.Activity, before.Chat, q.Limit},
		func(rows *sql.Rows) error {
			var e pigeonhole.InboxEntry
			var chat string
			if err := rows.Scan(&chat, &e.Activity, &e.ReadUpTo); err != nil {
				return err
			}
			var err error
			e.Chat, err = pigeonhole.ParseChatID(chat)
			out = append(out, e)
			return err
		})
	if err != nil || len(out) == 0 {
		return out, err
	}
	byChat := make(map[string]*pigeonhole.InboxEntry, len(out))
	var groups []any
	for i := range out {
		e := &out[i]
		byChat[e.Chat.String()] = e
		if e.Chat.IsGroup() {
			groups = append(groups, e.Chat.String())
		} else {
			a, b := e.Chat.Members()
			e.Members = slices.Compact([]string{a, b})
		}
	}
	if err := s.lastMessages(ctx, out, byChat); err != nil {
		return nil, err
	}
	if err := s.unreadCounts(ctx, out, q.Member); err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return out, nil
	}
	in := "(" + repeatJoin("?", len(groups)) + ")"
	err = queryEach(ctx, s.read, "SELECT chat, title FROM chat_groups WHERE chat IN "+in, groups, func(rows *sql.Rows) error {
		var chat, title string
		err := rows.Scan(&chat, &title)
		if e := byChat[chat]; e != nil {
			e.Title = title
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, queryEach(ctx, s.read, "SELECT chat, member FROM chat_members WHERE chat IN "+in+" ORDER BY chat, member", groups, func(rows *sql.Rows) error {
		var chat, member string
		err := rows.Scan(&chat, &member)
		if e := byChat[chat]; e != nil {
			e.Members = append(e.Members, member)
		}
		return err
	})
}

// lastMessages reads the entries' newest messages, their texts cut to the
// characters a preview can use, in one statement of one lookup per chat.
func (s *Store) lastMessages(ctx context.Context, entries []pigeonhole.InboxEntry, byChat map[string]*pigeonhole.InboxEntry) error {
	parts := make([]string, len(entries))
	args := make([]any, 0, 2*len(entries))
	for i, e := range entries {
		parts[i] = "SELECT * FROM (SELECT chat, send_time, sender, SUBSTR(text, 1, ?) AS preview FROM chat_messages" +
			" WHERE chat = ? ORDER BY send_time DESC LIMIT 1) AS l" + strconv.Itoa(i)
		args = append(args, pigeonhole.PreviewBytes, e.Chat.String())
	}
	return queryEach(ctx, s.read, strings.Join(parts, " UNION ALL "), args, func(rows *sql.Rows) error {
		var chat string
		var m pigeonhole.Message
		if err := rows.Scan(&chat, &m.SendTime, &m.Sender, &m.Text); err != nil {
			return err
		}
		if e := byChat[chat]; e != nil {
			m.Chat = e.Chat
			e.Last = m
		}
		return nil
	})
}

// unreadCounts counts each entry's messages from others after its marker
// (see unread), in one statement.
func (s *Store) unreadCounts(ctx context.Context, entries []pigeonhole.InboxEntry, member string) error {
	parts := make([]string, len(entries))
	args := make([]any, 0, 5*len(entries))
	for i, e := range entries {
		alias := "u" + strconv.Itoa(i)
		parts[i] = "SELECT ? AS position, COUNT(*) AS n FROM (SELECT sender FROM chat_messages WHERE chat = ? AND send_time > ?" +
			" ORDER BY send_time LIMIT ?) AS " + alias + " WHERE " + alias + ".sender <> ?"
		args = append(args, i, e.Chat.String(), e.ReadUpTo, pigeonhole.MaxUnread+1, member)
	}
	return queryEach(ctx, s.read, strings.Join(parts, " UNION ALL "), args, func(rows *sql.Rows) error {
		var position, n int
		if err := rows.Scan(&position, &n); err != nil {
			return err
		}
		if position < 0 || position >= len(entries) {
			return errors.New("sqlstore: unread count for an entry not asked for")
		}
		entries[position].Unread, entries[position].UnreadCapped = pigeonhole.UnreadCount(n)
		return nil
	})
}

// queryEach runs query on q and passes each row to scan.
func queryEach(ctx context.Context, q querier, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return scanEach(rows, scan)
}
