package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/notify"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/rangecache"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/storetest"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

// MustOpen opens a store on dsn with the given clock.
func MustOpen(tb testing.TB, dsn string, now func() time.Time) *sqlstore.Store {
	tb.Helper()
	s, err := mysql.Open(context.Background(), dsn, mysql.Options{Options: sqlstore.Options{Now: now}, MaxOpenConns: 16})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	return s
}

func newDatabase(tb testing.TB) storetest.Opener {
	dsn := mysqltest.NewDSN(tb)
	return func(tb testing.TB, now func() time.Time) pigeonhole.Store { return MustOpen(tb, dsn, now) }
}

func TestConformance(t *testing.T) { storetest.Run(t, newDatabase) }

// TestConformanceWaiting runs the waiting pulls of the suite, each store
// instance with the notifier the service gives it.
func TestConformanceWaiting(t *testing.T) {
	storetest.RunWaiting(t, newDatabase, func(s pigeonhole.Store) storetest.Notifier { return notify.New(s, notify.Config{}) })
}

// TestConformanceCached runs the suite on stores behind a range cache, as
// the service runs them.
func TestConformanceCached(t *testing.T) {
	storetest.Run(t, storetest.Wrapped(newDatabase, func(s pigeonhole.Store) pigeonhole.Store {
		return rangecache.New(s, rangecache.Config{MaxBytes: 8 << 20})
	}))
}

func BenchmarkStore(b *testing.B) { storetest.Benchmark(b, newDatabase) }

// BenchmarkStoreCached is BenchmarkStore behind a range cache, as the
// service runs the store: newest pages and empty tail polls come from
// memory once the chat's head, one shared point read, shows nothing new.
func BenchmarkStoreCached(b *testing.B) {
	storetest.Benchmark(b, storetest.Wrapped(newDatabase, func(s pigeonhole.Store) pigeonhole.Store {
		return rangecache.New(s, rangecache.Config{MaxBytes: 8 << 20})
	}))
}

// rawDB opens a plain connection pool on dsn for inspecting the schema.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrations(t *testing.T) {
	t.Run("ConcurrentReplicasApplyOnce", func(t *testing.T) {
		dsn := mysqltest.NewDSN(t)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := mysql.Open(context.Background(), dsn, mysql.Options{})
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("replica %d: %v", i, err)
			}
		}
		var n int
		if err := rawDB(t, dsn).QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if got, want := n, migrationCount(t); got != want {
			t.Fatalf("schema_migrations rows: got %d, want %d", got, want)
		}
	})
	t.Run("RunTwiceKeepsData", func(t *testing.T) {
		dsn := mysqltest.NewDSN(t)
		svc := pigeonhole.NewService(MustOpen(t, dsn, nil), pigeonhole.Config{})
		if _, err := svc.Send(context.Background(), pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "kept"}); err != nil {
			t.Fatal(err)
		}
		again := MustOpen(t, dsn, nil)
		defer again.Close()
		p, err := pigeonhole.NewService(again, pigeonhole.Config{}).Pull(context.Background(), pigeonhole.PullRequest{Chat: "a:b"})
		if err != nil || len(p.Messages) != 1 || p.Messages[0].Text != "kept" {
			t.Fatalf("after a second migration run: got %+v, %v", p, err)
		}
	})
}

// TestPullIsAnIndexRangeScan proves the paging query reads a page, not the
// chat or the table: EXPLAIN shows a range scan of the primary key without a
// filesort, and on MariaDB, ANALYZE shows it read only limit+1 rows from a
// chat of 2,000 messages in a table of 6,000.
func TestPullIsAnIndexRangeScan(t *testing.T) {
	dsn := mysqltest.NewDSN(t)
	s := MustOpen(t, dsn, nil)
	defer s.Close()
	db := rawDB(t, dsn)
	for c := 0; c < 3; c++ {
		var rows []string
		var args []any
		for i := 1; i <= 2000; i++ {
			rows = append(rows, "(?, ?, 'a', NULL, 'x')")
			args = append(args, fmt.Sprintf("a:b%d", c), i)
		}
		if _, err := db.Exec("INSERT INTO chat_messages (chat, send_time, sender, client_msg_id, text) VALUES "+strings.Join(rows, ","), args...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("ANALYZE TABLE chat_messages"); err != nil {
		t.Fatal(err)
	}
	queries := map[string]string{
		"Forward": "SELECT send_time, sender, text, client_msg_id FROM chat_messages WHERE chat = ? AND send_time >= ? ORDER BY send_time ASC LIMIT ?",
		"Reverse": "SELECT send_time, sender, text, client_msg_id FROM chat_messages WHERE chat = ? AND send_time <= ? ORDER BY send_time DESC LIMIT ?",
	}
	var version string
	if err := db.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			from := int64(1000)
			plan := queryMaps(t, db, "EXPLAIN "+q, "a:b1", from, 11)
			if len(plan) != 1 {
				t.Fatalf("EXPLAIN: %d rows, want 1: %v", len(plan), plan)
			}
			p := plan[0]
			if p["type"] != "range" || p["key"] != "PRIMARY" || strings.Contains(p["Extra"], "filesort") || strings.Contains(p["Extra"], "temporary") {
				t.Fatalf("EXPLAIN: got type=%q key=%q Extra=%q, want a range scan of PRIMARY with no filesort", p["type"], p["key"], p["Extra"])
			}
			if !strings.Contains(version, "MariaDB") {
				return
			}
			analyzed := queryMaps(t, db, "ANALYZE "+q, "a:b1", from, 11)
			if got := analyzed[0]["r_rows"]; got != "11.00" && got != "11" {
				t.Fatalf("ANALYZE: read %s rows, want 11 (limit+1)", got)
			}
		})
	}
}

// queryMaps runs q and returns its rows as column-name maps of strings.
func queryMaps(t *testing.T, db *sql.DB, q string, args ...any) []map[string]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = vals[i].String
		}
		out = append(out, m)
	}
	return out
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := mysql.Open(ctx, "root@tcp(127.0.0.1:1)/nowhere?timeout=1s", mysql.Options{})
	if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeUnavailable; got != want {
		t.Fatalf("open against a closed port: got %q (%v), want %q", got, err, want)
	}
}

// TestOneBadMessageDoesNotFailItsBatch appends many messages at once, one
// of which the database rejects (a sender longer than its column: only
// possible by going around the service's validation). Whether or not they
// share a transaction, the good ones must be stored and the bad one fail.
func TestOneBadMessageDoesNotFailItsBatch(t *testing.T) {
	s := MustOpen(t, mysqltest.NewDSN(t), nil)
	defer s.Close()
	chat, err := pigeonhole.ParseChatID("a:b")
	if err != nil {
		t.Fatal(err)
	}
	const good = 40
	errs := make([]error, good+1)
	var wg sync.WaitGroup
	for i := 0; i <= good; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := pigeonhole.Message{Chat: chat, Sender: "a", Text: fmt.Sprint(i)}
			if i == good {
				m.Sender = strings.Repeat("x", 100)
			}
			_, errs[i] = s.Append(context.Background(), m)
		}()
	}
	wg.Wait()
	for i := 0; i < good; i++ {
		if errs[i] != nil {
			t.Fatalf("good message %d failed: %v", i, errs[i])
		}
	}
	if errs[good] == nil {
		t.Fatal("the bad message was stored")
	}
	rows, err := s.Range(context.Background(), pigeonhole.Range{Chat: chat, Limit: 100})
	if err != nil || len(rows) != good {
		t.Fatalf("stored %d messages (%v), want %d", len(rows), err, good)
	}
}

// TestFailedAppendLeavesNoOpenTransaction fails an append after it has
// locked its chat's row (the insert is rejected: a sender longer than its
// column). Its transaction must not stay open on a pooled connection, where
// it would hold the lock and the connection's next START TRANSACTION would
// commit whatever the failed batch had written.
func TestFailedAppendLeavesNoOpenTransaction(t *testing.T) {
	dsn := mysqltest.NewDSN(t)
	s := MustOpen(t, dsn, nil)
	defer s.Close()
	chat, err := pigeonhole.ParseChatID("a:b")
	if err != nil {
		t.Fatal(err)
	}
	bad := pigeonhole.Message{Chat: chat, Sender: strings.Repeat("x", 100), Text: "rejected"}
	if _, err := s.Append(context.Background(), bad); err == nil {
		t.Fatal("the bad message was stored")
	}
	db := rawDB(t, dsn)
	const openInThisDB = `SELECT COUNT(*) FROM information_schema.INNODB_TRX t
		JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p.DB = DATABASE()`
	// A discarded connection's transaction ends when the server sees it close.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var open int
		if err := db.QueryRow(openInThisDB).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions still open after the failed append", open)
		}
	}
	if _, err := s.Append(context.Background(), pigeonhole.Message{Chat: chat, Sender: "a", Text: "fine"}); err != nil {
		t.Fatalf("append after the failure: %v", err)
	}
}

// migrationCount is the number of migration files, each applied once.
func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	return len(files)
}

func TestMigrationBackfillsInboxes(t *testing.T) {
	dsn := mysqltest.NewDSN(t)
	db := rawDB(t, dsn)
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := db.Exec(query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	storetest.ApplyFirstMigration(t, exec)
	storetest.Backfill(t, exec, func() pigeonhole.Store { return MustOpen(t, dsn, nil) })
}
