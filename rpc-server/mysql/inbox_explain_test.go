package mysql_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
)

// insertRows inserts n rows of cols into table, row(i) giving each one's
// values, in statements of 1,000 rows.
func insertRows(t *testing.T, dsn, table, cols string, n int, row func(i int) []any) {
	t.Helper()
	db := rawDB(t, dsn)
	width := len(strings.Split(cols, ","))
	place := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	for start := 0; start < n; start += 1000 {
		var places []string
		var args []any
		for i := start; i < min(start+1000, n); i++ {
			places = append(places, place)
			args = append(args, row(i)...)
		}
		if _, err := db.Exec("INSERT INTO "+table+" ("+cols+") VALUES "+strings.Join(places, ", "), args...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInboxAndUnreadAreIndexRangeScans proves an inbox page reads a page of
// the member's inbox index, not all their chats, and an unread count at
// most MaxUnread+1 messages: on MariaDB, ANALYZE shows the rows read for a
// member of 10,000 chats (among 30,000 inbox rows) and for a chat with
// 5,000 unread messages.
func TestInboxAndUnreadAreIndexRangeScans(t *testing.T) {
	dsn := mysqltest.NewDSN(t)
	MustOpen(t, dsn, nil).Close()
	insertRows(t, dsn, "chat_members", "chat, member, activity, read_up_to", 30_000, func(i int) []any {
		return []any{fmt.Sprintf("m%d:p%d", i%3, i), fmt.Sprintf("m%d", i%3), i + 1, 0}
	})
	insertRows(t, dsn, "chat_messages", "chat, send_time, sender, client_msg_id, text", 15_000, func(i int) []any {
		return []any{fmt.Sprintf("m0:p%d", i/5000), i + 1, "p", nil, "x"}
	})
	db := rawDB(t, dsn)
	for _, table := range []string{"chat_members", "chat_messages"} {
		if _, err := db.Exec("ANALYZE TABLE " + table); err != nil {
			t.Fatal(err)
		}
	}
	var version string
	if err := db.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	const page = "SELECT m.chat, m.activity, m.read_up_to FROM chat_members AS m FORCE INDEX (chat_members_inbox)" +
		" WHERE m.member = ? AND m.activity > ? AND (m.activity < ? OR (m.activity = ? AND m.chat < ?))" +
		" ORDER BY m.activity DESC, m.chat DESC LIMIT ?"
	for name, args := range map[string][]any{
		"FirstPage": {"m0", 0, int64(1) << 62, int64(1) << 62, "", 21},
		"MidPass":   {"m0", 0, 15_000, 15_000, "m0:p14999", 21},
		"NewerPass": {"m0", 29_000, int64(1) << 62, int64(1) << 62, "", 21},
	} {
		t.Run("InboxPage"+name, func(t *testing.T) {
			plan := queryMaps(t, db, "EXPLAIN "+page, args...)
			if p := plan[0]; len(plan) != 1 || p["type"] != "range" || p["key"] != "chat_members_inbox" || strings.Contains(p["Extra"], "filesort") {
				t.Fatalf("EXPLAIN: %v, want one range scan of chat_members_inbox with no filesort", plan)
			}
			if !strings.Contains(version, "MariaDB") {
				return
			}
			if got := rowsRead(t, queryMaps(t, db, "ANALYZE "+page, args...)[0]); got > 21 {
				t.Fatalf("ANALYZE: read %v rows, want at most 21 (limit+1)", got)
			}
		})
	}
	t.Run("UnreadCount", func(t *testing.T) {
		const unread = "SELECT COUNT(*) FROM (SELECT sender FROM chat_messages WHERE chat = ? AND send_time > ?" +
			" ORDER BY send_time LIMIT ?) AS u WHERE u.sender <> ?"
		args := []any{"m0:p1", 5000, 1000, "m0"}
		for _, p := range queryMaps(t, db, "EXPLAIN "+unread, args...) {
			if p["table"] == "chat_messages" && (p["type"] != "range" || p["key"] != "PRIMARY" || strings.Contains(p["Extra"], "filesort")) {
				t.Fatalf("EXPLAIN: %v, want a range scan of the primary key", p)
			}
		}
		if !strings.Contains(version, "MariaDB") {
			return
		}
		var count int
		if err := db.QueryRow(unread, args...).Scan(&count); err != nil || count != 1000 {
			t.Fatalf("count: %d, %v; want 1000", count, err)
		}
		for _, p := range queryMaps(t, db, "ANALYZE "+unread, args...) {
			if p["table"] != "chat_messages" {
				continue
			}
			if got := rowsRead(t, p); got != 1000 {
				t.Fatalf("ANALYZE: read %v messages, want the 1000 of the limit", got)
			}
		}
	})
}

// rowsRead is ANALYZE's r_rows of one plan row.
func rowsRead(t *testing.T, plan map[string]string) float64 {
	t.Helper()
	n, err := strconv.ParseFloat(plan["r_rows"], 64)
	if err != nil {
		t.Fatalf("ANALYZE: no r_rows in %v", plan)
	}
	return n
}
