package mysqltest

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func TestMain(m *testing.M) { Main(m) }

// errNoSuchTable is MariaDB's ER_NO_SUCH_TABLE.
const errNoSuchTable = 1146

// openDB opens dsn and closes the pool when the test ends (before NewDSN's
// cleanup drops the database, since cleanups run last-in first-out).
func openDB(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func mustExec(tb testing.TB, db *sql.DB, query string, args ...any) {
	tb.Helper()
	if _, err := db.ExecContext(tb.Context(), query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

func TestNewDSN(t *testing.T) {
	t.Run("GivesDistinctDatabases", func(t *testing.T) {
		dsnA, dsnB := NewDSN(t), NewDSN(t)
		var nameA, nameB string
		if err := openDB(t, dsnA).QueryRow("SELECT DATABASE()").Scan(&nameA); err != nil {
			t.Fatal(err)
		}
		if err := openDB(t, dsnB).QueryRow("SELECT DATABASE()").Scan(&nameB); err != nil {
			t.Fatal(err)
		}
		if nameA == nameB {
			t.Fatalf("both DSNs use database %q", nameA)
		}
		if !strings.HasPrefix(nameA, "t_testnewdsn_givesdistinctdatabases_") {
			t.Errorf("database name %q does not start with the test name", nameA)
		}
	})

	t.Run("StoresFourByteUTF8Exactly", func(t *testing.T) {
		const body = "pigeon \U0001F426 dove \U0001F54A\uFE0F \U0001F600"
		for _, dsn := range []string{NewDSN(t), NewDSN(t)} {
			db := openDB(t, dsn)
			mustExec(t, db, "CREATE TABLE message (id INT PRIMARY KEY, body VARCHAR(100) NOT NULL) ENGINE=InnoDB")
			mustExec(t, db, "INSERT INTO message (id, body) VALUES (?, ?)", 1, body)
			var got string
			var bytes, chars int
			err := db.QueryRow("SELECT body, LENGTH(body), CHAR_LENGTH(body) FROM message WHERE id = ?", 1).
				Scan(&got, &bytes, &chars)
			if err != nil {
				t.Fatal(err)
			}
			if got != body {
				t.Fatalf("body: got %q, want %q", got, body)
			}
			if want := len(body); bytes != want {
				t.Errorf("LENGTH(body): got %d, want %d", bytes, want)
			}
			if want := len([]rune(body)); chars != want {
				t.Errorf("CHAR_LENGTH(body): got %d, want %d", chars, want)
			}
		}
	})

	t.Run("DatabasesAreUTF8MB4Bin", func(t *testing.T) {
		db := openDB(t, NewDSN(t))
		var charset, collation string
		err := db.QueryRow(`SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME
			FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()`).Scan(&charset, &collation)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := charset+"/"+collation, "utf8mb4/utf8mb4_bin"; got != want {
			t.Fatalf("database defaults: got %s, want %s", got, want)
		}
	})

	t.Run("DatabasesAreIsolated", func(t *testing.T) {
		dbA, dbB := openDB(t, NewDSN(t)), openDB(t, NewDSN(t))
		mustExec(t, dbA, "CREATE TABLE only_a (id INT PRIMARY KEY)")
		var mysqlErr *mysql.MySQLError
		if _, err := dbB.Exec("SELECT id FROM only_a"); !errors.As(err, &mysqlErr) || mysqlErr.Number != errNoSuchTable {
			t.Fatalf("table of A seen from B: got error %v, want %d", err, errNoSuchTable)
		}
		for _, db := range []*sql.DB{dbA, dbB} {
			mustExec(t, db, "CREATE TABLE shared_name (id INT PRIMARY KEY)")
		}
		mustExec(t, dbA, "INSERT INTO shared_name (id) VALUES (1), (2), (3)")
		mustExec(t, dbB, "INSERT INTO shared_name (id) VALUES (1)")
		for db, want := range map[*sql.DB]int{dbA: 3, dbB: 1} {
			var got int
			if err := db.QueryRow("SELECT COUNT(*) FROM shared_name").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("rows: got %d, want %d", got, want)
			}
		}
	})

	t.Run("DSNSetsDriverOptions", func(t *testing.T) {
		dsn := NewDSN(t)
		for _, param := range []string{"charset=utf8mb4", "parseTime=false", "timeout=5s"} {
			if !strings.Contains(dsn, param) {
				t.Errorf("DSN %q lacks %s", dsn, param)
			}
		}
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ParseTime || cfg.InterpolateParams {
			t.Errorf("ParseTime=%v InterpolateParams=%v, want both false", cfg.ParseTime, cfg.InterpolateParams)
		}
	})

	t.Run("DropsDatabaseWhenTestEnds", func(t *testing.T) {
		var dropped string
		t.Run("Inner", func(t *testing.T) {
			cfg, err := mysql.ParseDSN(NewDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			dropped = cfg.DBName
		})
		var n int
		err := openDB(t, NewDSN(t)).QueryRow(
			"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", dropped).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("database %s still exists after its test ended", dropped)
		}
	})
}

func TestStartStop(t *testing.T) {
	begin := time.Now()
	s, err := Start(t.Context(), t.TempDir())
	if errors.Is(err, ErrNotFound) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %v", time.Since(begin).Round(time.Millisecond))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			s.Stop()
		}
	})

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.CreateDatabase(ctx, "start_stop"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "a`b", "a b", "a-b", strings.Repeat("x", 65)} {
		if err := s.CreateDatabase(ctx, bad); err == nil {
			t.Errorf("CreateDatabase(%q) succeeded, want an error", bad)
		}
	}
	db := openDB(t, s.DSN("start_stop"))
	var maxConns int
	var charset, logBin, flush string
	err = db.QueryRow("SELECT @@max_connections, @@character_set_server, @@log_bin, @@innodb_flush_log_at_trx_commit").
		Scan(&maxConns, &charset, &logBin, &flush)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := [3]string{charset, logBin, flush}, [3]string{"utf8mb4", "0", "1"}; got != want {
		t.Errorf("charset, log_bin, flush: got %v, want %v", got, want)
	}
	if maxConns < 1000 {
		t.Errorf("max_connections: got %d, want at least 1000", maxConns)
	}
	db.Close()

	pid := s.proc.cmd.Process.Pid
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stopped = true
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("mariadbd pid %d after Stop: kill 0 gave %v, want ESRCH", pid, err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestDatabaseName(t *testing.T) {
	name := databaseName("TestStore/Ünïcode name #1 with a very long tail that goes on and on")
	if err := checkName(name); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(name, "t_teststore__n_code_name__1_") {
		t.Errorf("name %q does not keep the sanitised test name", name)
	}
	if other := databaseName("TestStore"); other == databaseName("TestStore") {
		t.Errorf("two calls gave the same name %q", other)
	}
}
