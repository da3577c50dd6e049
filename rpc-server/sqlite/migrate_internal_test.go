package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

// TestMigrationFailsWhenItsCommitFails runs a migration whose statements
// all succeed but whose COMMIT is refused (a deferred foreign key is
// violated): the migration must fail, and leave nothing applied.
func TestMigrationFailsWhenItsCommitFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := sql.Open("sqlite", dsn(path, "_pragma=foreign_keys(1)"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	d := dialect()
	d.Migrations = fstest.MapFS{"migrations/0001_refused.sql": {Data: []byte(`
CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
INSERT INTO child (parent) VALUES (1);
`)}}
	if err := sqlstore.Migrate(context.Background(), db, d); err == nil {
		t.Fatal("Migrate succeeded although its COMMIT failed")
	}
	var tables int
	if err := db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('child', 'schema_migrations')").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("%d tables of the refused migration exist; want none", tables)
	}
}
