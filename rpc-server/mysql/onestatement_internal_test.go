package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/storetest"
)

// TestConformanceOneStatementAtATime runs the suite on MySQL with appends
// sent one statement at a time, the path SQLite takes, so that both append
// paths (appendTx and appendMulti) are held to the contract on the same
// engine, with its row locks and several connections.
func TestConformanceOneStatementAtATime(t *testing.T) {
	d := dialect()
	d.MultiStatements = false
	storetest.Run(t, func(tb testing.TB) storetest.Opener {
		dsn := mysqltest.NewDSN(tb)
		return func(tb testing.TB, now func() time.Time) pigeonhole.Store {
			tb.Helper()
			s, err := open(context.Background(), dsn, Options{Options: sqlstore.Options{Now: now}, MaxOpenConns: 16}, d)
			if err != nil {
				tb.Fatalf("open: %v", err)
			}
			return s
		}
	})
}
