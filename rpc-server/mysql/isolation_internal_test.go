package mysql

import (
	"database/sql"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
)

func TestConnectionsAreReadCommitted(t *testing.T) {
	cfg, err := mysql.ParseDSN(mysqltest.NewDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(readCommitted{connector})
	defer db.Close()
	var level string
	// MariaDB 10.11 names the variable tx_isolation, MySQL 8
	// transaction_isolation.
	if err := db.QueryRow("SELECT @@session.tx_isolation").Scan(&level); err != nil {
		if err := db.QueryRow("SELECT @@session.transaction_isolation").Scan(&level); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := level, "READ-COMMITTED"; got != want {
		t.Fatalf("session isolation: got %q, want %q", got, want)
	}
}
