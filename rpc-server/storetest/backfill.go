package storetest

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Backfill checks that a database from before conversations existed gets
// its two-member chats' inbox entries and read markers from its history
// when it migrates. exec runs a statement on that database, which has the
// first migration's schema and nothing more; open then opens (and so
// migrates) a store on it.
func Backfill(t *testing.T, exec func(query string, args ...any), open func() pigeonhole.Store) {
	t.Helper()
	for _, m := range []struct {
		chat, sender string
		at           int64
	}{{"a:b", "a", 10}, {"a:b", "b", 20}, {"a:b", "b", 30}, {"a:c", "c", 25}, {"a:a", "a", 5}} {
		exec("INSERT INTO chat_messages (chat, send_time, sender, client_msg_id, text) VALUES (?, ?, ?, NULL, ?)", m.chat, m.at, m.sender, "old")
	}
	for chat, last := range map[string]int64{"a:b": 30, "a:c": 25, "a:a": 5} {
		exec("INSERT INTO chats (chat, last_send_time) VALUES (?, ?)", chat, last)
	}
	store := open()
	t.Cleanup(func() { store.Close() })
	svc := pigeonhole.NewService(store, pigeonhole.Config{})
	for _, tc := range []struct {
		member     string
		chats      []string
		readUpTo   []int64
		unread     []int
		lastSender string
	}{
		{"a", []string{"a:b", "a:c", "a:a"}, []int64{10, 0, 5}, []int{2, 1, 0}, "b"},
		{"b", []string{"a:b"}, []int64{30}, []int{0}, "b"},
		{"c", []string{"a:c"}, []int64{25}, []int{0}, "c"},
	} {
		p := inbox(t, svc, tc.member, "", 0)
		if got := chatIDs(p.Chats); !slices.Equal(got, tc.chats) {
			t.Fatalf("%s's inbox after the migration: %v, want %v", tc.member, got, tc.chats)
		}
		for i, e := range p.Chats {
			if e.ReadUpTo != tc.readUpTo[i] || e.Unread != tc.unread[i] {
				t.Fatalf("%s's %s: read up to %d with %d unread, want %d and %d", tc.member, e.Chat, e.ReadUpTo, e.Unread, tc.readUpTo[i], tc.unread[i])
			}
		}
		if got := p.Chats[0].Last.Sender; got != tc.lastSender {
			t.Fatalf("%s's newest chat's last sender %q, want %q", tc.member, got, tc.lastSender)
		}
	}
}

// ApplyFirstMigration makes the schema of a database that only ever ran
// the first migration, from the calling test's own
// migrations/0001_init.sql (go test runs in the package's directory), so
// that a later migration can be tested on data written before it.
func ApplyFirstMigration(t *testing.T, exec func(query string, args ...any)) {
	t.Helper()
	body, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(string(body), ";\n") {
		if strings.TrimSpace(stripComments(stmt)) != "" {
			exec(stmt)
		}
	}
	exec("CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at BIGINT NOT NULL)")
	exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'migrations/0001_init.sql', 0)")
}

// stripComments drops the SQL comment lines of stmt.
func stripComments(stmt string) string {
	var lines []string
	for _, line := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
