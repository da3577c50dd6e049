// Command rpc-server is the pigeonhole message service: Kitex Thrift RPC
// over the embedded store (default) or MySQL. It only wires; the rules live
// in package pigeonhole.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitexrpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlite"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "rpc-server:", err)
		os.Exit(1)
	}
}

// run starts the service and blocks until ctx ends (SIGINT/SIGTERM), then
// shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	log.Info("starting", cfg.logAttrs(mysql.RedactDSN)...)

	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing the store", "error", err)
		}
	}()
	svc := pigeonhole.NewService(store, pigeonhole.Config{MaxTextBytes: cfg.MaxTextBytes, MaxLimit: cfg.MaxPull})

	log.Info("serving", "rpc_addr", cfg.RPCAddr)
	err = kitexrpc.Serve(ctx, kitexrpc.NewHandler(svc, log), kitexrpc.ServerConfig{Addr: cfg.RPCAddr, ExitWait: cfg.ExitWait})
	log.Info("stopped", "error", err)
	return err
}

func openStore(ctx context.Context, cfg config) (pigeonhole.Store, error) {
	opts := sqlstore.Options{Lanes: cfg.CommitLanes}
	if cfg.MySQL != "" {
		return mysql.Open(ctx, cfg.MySQL, mysql.Options{Options: opts})
	}
	return sqlite.Open(ctx, cfg.DataDir, opts)
}
