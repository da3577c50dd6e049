package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/notify"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/rangecache"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlite"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/storetest"
)

// MustOpen opens a store in dir with the given clock.
func MustOpen(tb testing.TB, dir string, now func() time.Time) *sqlstore.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), dir, sqlstore.Options{Now: now})
	if err != nil {
		tb.Fatalf("open %s: %v", dir, err)
	}
	return s
}

func newDatabase(tb testing.TB) storetest.Opener {
	dir := tb.TempDir()
	return func(tb testing.TB, now func() time.Time) pigeonhole.Store { return MustOpen(tb, dir, now) }
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

func TestMigrationsRunTwiceAreANoOp(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		if err := MustOpen(t, dir, nil).Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if got, want := n, migrationCount(t); got != want {
		t.Fatalf("schema_migrations rows: got %d, want %d", got, want)
	}
}

func TestOpenFailsOnUnwritableDir(t *testing.T) {
	_, err := sqlite.Open(context.Background(), "/proc/pigeonhole-cannot-exist", sqlstore.Options{})
	if err == nil {
		t.Fatal("open in /proc succeeded")
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
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := db.Exec(query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	storetest.ApplyFirstMigration(t, exec)
	storetest.Backfill(t, exec, func() pigeonhole.Store { return MustOpen(t, dir, nil) })
}
