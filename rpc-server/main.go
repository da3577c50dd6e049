// Command rpc-server is the pigeonhole message service: Kitex Thrift RPC
// over the embedded store (default) or MySQL, registered in etcd when
// asked. It only wires; the rules live in package pigeonhole.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/cloudwego/kitex/server"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/etcd"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitexrpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/ops"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/rangecache"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlite"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

func main() { program.Main("rpc-server", run) }

// run starts the service and blocks until ctx ends (SIGINT/SIGTERM), then
// shuts down gracefully: deregister, drain, finish in-flight requests,
// close the store.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := cfg.Start(getenv, stderr)
	log.Info("starting", cfg.logAttrs(mysql.RedactDSN)...)
	if !cfg.Auth.On() {
		program.WarnIfOpen(log, "rpc", cfg.RPCAddr)
	}
	if err := cfg.ServeProfiles(ctx, log); err != nil {
		return err
	}

	metrics := ops.NewMetrics()
	store, err := openStore(ctx, cfg, metrics)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing the store", "error", err)
		}
	}()
	metrics.ObservePool("write", store.Stats)
	verifier, err := cfg.Auth.Verifier(ctx, log, pigeonhole.ValidateMemberID)
	if err != nil {
		return err
	}
	svc := pigeonhole.NewService(withCache(store, cfg, metrics), pigeonhole.Config{
		MaxTextBytes: cfg.MaxTextBytes, MaxLimit: cfg.MaxPull, RequireCaller: cfg.Auth.On(),
	})

	var opts []server.Option
	if len(cfg.Etcd) > 0 {
		if opts, err = registration(cfg, log); err != nil {
			return err
		}
	}

	serveCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	opsDone := make(chan error, 1)
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		log.Info("serving metrics and health", "metrics_addr", ln.Addr().String())
		go func() { opsDone <- ops.Serve(serveCtx, ln, metrics.Handler(), svc.Ready) }()
	} else {
		opsDone <- nil
	}

	log.Info("serving", "rpc_addr", cfg.RPCAddr)
	handler := kitexrpc.NewHandler(svc, log, metrics, authenticator(verifier))
	err = kitexrpc.Serve(serveCtx, handler, kitexrpc.ServerConfig{Addr: cfg.RPCAddr, ExitWait: cfg.ExitWait, Options: opts})
	cancel()
	err = errors.Join(err, <-opsDone)
	log.Info("stopped", "error", err)
	return err
}

// authenticator is v as the handler's Authenticator: nil (no checks) when
// auth is off.
func authenticator(v *jwtauth.Verifier) kitexrpc.Authenticator {
	if v == nil {
		return nil
	}
	return v
}

func openStore(ctx context.Context, cfg config, obs sqlstore.Observer) (*sqlstore.Store, error) {
	opts := sqlstore.Options{Lanes: cfg.CommitLanes, Observer: obs}
	if cfg.MySQL != "" {
		return mysql.Open(ctx, cfg.MySQL, mysql.Options{Options: opts})
	}
	return sqlite.Open(ctx, cfg.DataDir, opts)
}

// withCache puts the range cache in front of store when it has memory.
func withCache(store pigeonhole.Store, cfg config, obs rangecache.Observer) pigeonhole.Store {
	if cfg.RangeCacheMiB == 0 {
		return store
	}
	return rangecache.New(store, rangecache.Config{MaxBytes: int64(cfg.RangeCacheMiB) << 20, Observer: obs})
}

func registration(cfg config, log *slog.Logger) ([]server.Option, error) {
	advertise, err := etcd.AdvertiseAddr(cfg.RPCAddr, cfg.AdvertiseAddr)
	if err != nil {
		return nil, err
	}
	password, err := etcd.ReadPassword(cfg.EtcdUser, cfg.EtcdPasswordFile)
	if err != nil {
		return nil, err
	}
	return etcd.Registration(etcd.Config{
		Endpoints:   cfg.Etcd,
		User:        cfg.EtcdUser,
		Password:    password,
		ServiceName: rpc.ServiceName,
		Advertise:   advertise,
		LeaseTTL:    cfg.LeaseTTL,
		Drain:       cfg.Drain,
		Logger:      log,
	})
}
