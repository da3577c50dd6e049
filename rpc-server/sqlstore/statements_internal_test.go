package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// oneConnDB is a SQLite database with one connection, as the embedded
// store's write pool.
func oneConnDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	return db
}

// inTx runs f in a transaction of db and commits it.
func inTx(t *testing.T, db *sql.DB, f func(ctx context.Context, tx *sql.Tx) error) {
	t.Helper()
	ctx := t.Context()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f(ctx, tx); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A statement met in a transaction runs as text, is prepared after it, and
// the next transaction runs it prepared on the pool's one connection.
func TestStatementsArePreparedAfterTheirFirstTransaction(t *testing.T) {
	db := oneConnDB(t)
	c := newStatements(db)
	defer c.close()
	const insert = "INSERT INTO t (k, v) VALUES (?, ?)"
	for k := range 3 {
		inTx(t, db, func(ctx context.Context, tx *sql.Tx) error {
			_, err := c.exec(ctx, tx, insert, k, fmt.Sprint(k))
			return err
		})
		if k == 0 && len(c.byText) != 0 {
			t.Fatal("a statement was prepared inside the transaction that met it")
		}
		c.learn(t.Context())
		if len(c.byText) != 1 || c.byText[insert] == nil {
			t.Fatalf("after transaction %d: prepared %v, want the insert", k, c.byText)
		}
	}
	var n int
	inTx(t, db, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := c.query(ctx, tx, "SELECT COUNT(*) FROM t")
		if err != nil {
			return err
		}
		defer rows.Close()
		rows.Next()
		return rows.Scan(&n)
	})
	if n != 3 {
		t.Fatalf("%d rows, want the 3 inserted", n)
	}
}

// However many statement texts a store meets, it keeps at most
// maxStatements of them.
func TestStatementsAreBounded(t *testing.T) {
	db := oneConnDB(t)
	c := newStatements(db)
	defer c.close()
	for i := range maxStatements + 50 {
		inTx(t, db, func(ctx context.Context, tx *sql.Tx) error {
			_, err := c.exec(ctx, tx, fmt.Sprintf("INSERT INTO t (k, v) VALUES (?, '%d')", i), i)
			return err
		})
		c.learn(t.Context())
	}
	if len(c.byText) != maxStatements {
		t.Fatalf("%d statements kept, want %d", len(c.byText), maxStatements)
	}
}
