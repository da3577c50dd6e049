package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
)

// BenchmarkActivityOrder measures where an inbox's activity order can
// live (docs/performance.md, "Conversations"): a send's transaction as the
// store runs it, on one connection, for a two-member chat and for a group
// of 1,000 with the members' rows moved inside the transaction or after
// it; and an inbox page read from the per-member index or ordered at read
// time from the chats' last send times.
func BenchmarkActivityOrder(b *testing.B) {
	dsn := mysqltest.NewDSN(b)
	MustOpen(b, dsn, nil).Close()
	db, err := sql.Open("mysql", dsn+"&multiStatements=true&interpolateParams=true")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	exec := func(q string, args ...any) {
		if _, err := db.Exec(q, args...); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	const groupSize, memberChats = 1000, 10_000
	exec("INSERT INTO chats (chat, last_send_time) VALUES ('gbench', 1)")
	for i := 0; i < groupSize; i += 500 {
		q := "INSERT INTO chat_members (chat, member, activity, read_up_to) VALUES "
		var args []any
		for j := i; j < i+500; j++ {
			if j > i {
				q += ", "
			}
			q += "(?, ?, 1, 0)"
			args = append(args, "gbench", fmt.Sprintf("u%04d", j))
		}
		exec(q, args...)
	}
	for i := 0; i < memberChats; i += 500 {
		chats := "INSERT INTO chats (chat, last_send_time) VALUES "
		members := "INSERT INTO chat_members (chat, member, activity, read_up_to) VALUES "
		var chatArgs, memberArgs []any
		for j := i; j < i+500; j++ {
			if j > i {
				chats += ", "
				members += ", "
			}
			chats += "(?, ?)"
			members += "(?, 'reader', ?, 0)"
			chatArgs = append(chatArgs, fmt.Sprintf("p%05d:reader", j), j+1)
			memberArgs = append(memberArgs, fmt.Sprintf("p%05d:reader", j), j+1)
		}
		exec(chats, chatArgs...)
		exec(members, memberArgs...)
	}
	exec("ANALYZE TABLE chats, chat_members")
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	t := int64(1_000_000)
	send := func(b *testing.B, chat, sender string, members []string, spreadInTx, spreadAfter bool) {
		t++
		q := "START TRANSACTION; INSERT INTO chats (chat, last_send_time) VALUES (?, 0) ON DUPLICATE KEY UPDATE last_send_time = last_send_time;" +
			" SELECT last_send_time FROM chats WHERE chat = ?"
		rows, err := conn.QueryContext(ctx, q, chat, chat)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
		w := "INSERT INTO chat_messages (chat, send_time, sender, client_msg_id, text) VALUES (?, ?, ?, NULL, 'hello');" +
			" INSERT INTO chats (chat, last_send_time) VALUES (?, ?) ON DUPLICATE KEY UPDATE last_send_time = VALUES(last_send_time)"
		args := []any{chat, t, sender, chat, t}
		if len(members) > 0 {
			w += "; INSERT INTO chat_members (chat, member, activity, read_up_to) VALUES (?, ?, ?, ?)"
			args = append(args, chat, members[0], t, t)
			for _, m := range members[1:] {
				w += ", (?, ?, ?, 0)"
				args = append(args, chat, m, t)
			}
			w += " ON DUPLICATE KEY UPDATE activity = GREATEST(activity, VALUES(activity)), read_up_to = GREATEST(read_up_to, VALUES(read_up_to))"
		}
		if spreadInTx {
			w += "; UPDATE chat_members SET activity = ? WHERE chat = ? AND activity < ?"
			args = append(args, t, chat, t)
		}
		if _, err := conn.ExecContext(ctx, w+"; COMMIT", args...); err != nil {
			b.Fatal(err)
		}
		if spreadAfter {
			if _, err := conn.ExecContext(ctx, "UPDATE chat_members SET activity = ? WHERE chat = ? AND activity < ?", t, chat, t); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("SendTwoMemberChatWithoutInboxRows", func(b *testing.B) {
		for range b.N {
			send(b, "a:b", "a", nil, false, false)
		}
	})
	b.Run("SendTwoMemberChat", func(b *testing.B) {
		for range b.N {
			send(b, "a:b", "a", []string{"a", "b"}, false, false)
		}
	})
	b.Run("SendGroup1000SpreadInTransaction", func(b *testing.B) {
		for range b.N {
			send(b, "gbench", "u0001", []string{"u0001"}, true, false)
		}
	})
	b.Run("SendGroup1000SpreadAfterCommit", func(b *testing.B) {
		for range b.N {
			send(b, "gbench", "u0001", []string{"u0001"}, false, true)
		}
	})
	page := func(b *testing.B, q string) {
		for range b.N {
			rows, err := conn.QueryContext(ctx, q, "reader")
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if n != 21 {
				b.Fatalf("%d rows", n)
			}
		}
	}
	b.Run("InboxPageFromMemberIndex", func(b *testing.B) {
		page(b, "SELECT chat, activity FROM chat_members FORCE INDEX (chat_members_inbox) WHERE member = ? ORDER BY activity DESC, chat DESC LIMIT 21")
	})
	b.Run("InboxPageOrderedAtReadTime", func(b *testing.B) {
		page(b, "SELECT m.chat, c.last_send_time FROM chat_members AS m JOIN chats AS c ON c.chat = m.chat WHERE m.member = ? ORDER BY c.last_send_time DESC, m.chat DESC LIMIT 21")
	})
}
