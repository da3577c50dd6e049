package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// Store names, as given to --stores.
const (
	storeEmbedded = "embedded"
	storeMySQL    = "mysql"
)

// stack is one rpc-server and one http-server in front of it, on one store.
type stack struct {
	store   string
	url     string // of the gateway
	rpc     *harness.Process
	gateway *harness.Process
	mariadb *mysqltest.Server // nil for the embedded store
}

// startStack starts the servers on store in dir: the embedded store in
// dir/data or, for mysql, a throwaway mariadbd in dir/mariadb. It returns
// errSkipStore when MariaDB is not installed.
func startStack(ctx context.Context, bins harness.Binaries, store, dir string) (_ *stack, err error) {
	s := &stack{store: store}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	rpcAddr, err := harness.FreeAddr()
	if err != nil {
		return nil, err
	}
	// Metrics off: a fixed port would clash with anything else on it.
	rpcArgs := []string{"--rpc-addr", rpcAddr, "--metrics-addr=", "--log-level", "warn"}
	switch store {
	case storeEmbedded:
		rpcArgs = append(rpcArgs, "--data-dir", filepath.Join(dir, "data"))
	case storeMySQL:
		if err := os.MkdirAll(filepath.Join(dir, "mariadb"), 0o755); err != nil {
			return nil, err
		}
		s.mariadb, err = mysqltest.Start(ctx, filepath.Join(dir, "mariadb"))
		if errors.Is(err, mysqltest.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v", errSkipStore, err)
		}
		if err != nil {
			return nil, err
		}
		if err := s.mariadb.CreateDatabase(ctx, "pigeonhole_bench"); err != nil {
			return nil, err
		}
		rpcArgs = append(rpcArgs, "--mysql", s.mariadb.DSN("pigeonhole_bench"))
	default:
		return nil, fmt.Errorf("unknown store %q: want %s or %s", store, storeEmbedded, storeMySQL)
	}
	s.rpc, err = startProcess(ctx, harness.Command{
		Name: "rpc-server", Path: bins.RPCServer, Args: rpcArgs, LogPath: filepath.Join(dir, "rpc-server.log"),
	}, func(ctx context.Context, p *harness.Process) error { return harness.WaitTCP(ctx, p, rpcAddr) })
	if err != nil {
		return nil, err
	}
	if s.mariadb != nil {
		// The rpc-server has created the tables by now.
		if err := fillTable(ctx, s.mariadb.DSN("pigeonhole_bench")); err != nil {
			return nil, err
		}
	}
	httpAddr, err := harness.FreeAddr()
	if err != nil {
		return nil, err
	}
	s.url = "http://" + httpAddr
	s.gateway, err = startProcess(ctx, harness.Command{
		Name: "http-server", Path: bins.HTTPServer,
		// The load comes from one address: per-caller rate limits would
		// measure themselves, not the system.
		Args:    []string{"--http-addr", httpAddr, "--service", rpcAddr, "--log-level", "warn", "--send-rate=0", "--pull-rate=0", "--metrics-addr="},
		LogPath: filepath.Join(dir, "http-server.log"),
	}, func(ctx context.Context, p *harness.Process) error { return harness.WaitHTTP(ctx, p, s.url+"/readyz") })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// fillerChats × fillerMessages messages of other chats are in the MySQL
// database before the benchmarks run: the pull target is set for a
// table of a million rows, where reading a page must cost what it costs in
// a small one.
const (
	fillerChats    = 1000
	fillerMessages = 1000
)

// fillTable bulk-loads the filler messages with MariaDB's sequence engine.
func fillTable(ctx context.Context, dsn string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	chats := fmt.Sprintf("seq_0_to_%d", fillerChats-1)
	rows := fmt.Sprintf("seq_0_to_%d", fillerChats*fillerMessages-1)
	stmts := []struct {
		query string
		args  []any
	}{
		{"INSERT INTO chats (chat, last_send_time) SELECT CONCAT('filler', seq, ':zz'), ? FROM " + chats,
			[]any{fillerMessages}},
		{"INSERT INTO chat_messages (chat, send_time, sender, client_msg_id, text) " +
			"SELECT CONCAT('filler', seq DIV ?, ':zz'), 1 + seq MOD ?, 'zz', NULL, ? FROM " + rows,
			[]any{fillerMessages, fillerMessages, "a filler message, as long as a short chat message is"}},
	}
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st.query, st.args...); err != nil {
			return fmt.Errorf("filling the table: %w", err)
		}
	}
	return nil
}

// errSkipStore marks a store that cannot run on this machine.
var errSkipStore = errors.New("store not available")

// startProcess starts cmd and waits until ready says it serves.
func startProcess(ctx context.Context, cmd harness.Command, ready func(context.Context, *harness.Process) error) (*harness.Process, error) {
	p, err := harness.Start(cmd)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, harness.ReadyTimeout)
	defer cancel()
	if err := ready(ctx, p); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

// stop stops the gateway, the service and MariaDB, in that order, and
// reports the first failure to exit cleanly.
func (s *stack) stop() error {
	var errs []error
	for _, p := range []*harness.Process{s.gateway, s.rpc} {
		if p != nil {
			errs = append(errs, p.Stop())
		}
	}
	if s.mariadb != nil {
		errs = append(errs, s.mariadb.Stop())
	}
	return errors.Join(errs...)
}
