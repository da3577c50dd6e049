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

	"github.com/cloudwego/kitex/pkg/klog"
	"github.com/cloudwego/kitex/server"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/etcd"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitexrpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/notify"
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
	if cfg.Healthcheck {
		if cfg.MetricsAddr == "" {
			return errors.New("healthcheck: --metrics-addr is off")
		}
		return program.Probe(ctx, cfg.MetricsAddr, "/readyz")
	}
	log := cfg.Start(getenv, stderr)
	// Kitex logs through a package-level logger; it is set here, once,
	// before any Kitex code runs.
	klog.SetLogger(kitexLog{program.NewFrameworkLog(log, "kitex")})
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
	// On SIGINT/SIGTERM the notifier answers every waiting pull at once
	// (and every later one): the drain that follows is for requests that
	// end by themselves, and a long poll would hold it to its end.
	notifier := notify.New(store, notify.Config{Interval: cfg.WaitPoll, MaxWaiters: int64(cfg.MaxWaiters), Logger: log})
	// Each waiting call holds memory for as long as it waits: the soft
	// memory limit grows with them.
	go cfg.GrowMemoryLimit(ctx, getenv, waiterMemory, notifier.Waiters)
	stopWaiting := context.AfterFunc(ctx, notifier.Stop)
	defer func() {
		stopWaiting()
		notifier.Stop()
	}()
	svc := pigeonhole.NewService(withCache(store, cfg, metrics), pigeonhole.Config{
		MaxTextBytes: cfg.MaxTextBytes, MaxLimit: cfg.MaxPull, MaxPageBytes: cfg.MaxPageBytes,
		MaxWait: cfg.MaxWait, Notifier: notifier, MaxGroupMembers: cfg.MaxGroup, RequireCaller: cfg.Auth.On(),
	})

	lns, err := listen(cfg)
	if err != nil {
		return err
	}
	serving := []any{"rpc_addr", lns.rpc.Addr().String()}
	var opts []server.Option
	if len(cfg.Etcd) > 0 {
		advertise, err := etcd.AdvertiseAddr(lns.rpc.Addr().String(), cfg.AdvertiseAddr)
		if err == nil {
			opts, err = registration(cfg, advertise, log)
		}
		if err != nil {
			lns.close()
			return err
		}
		serving = append(serving, "advertise_addr", advertise.String())
	}

	serveCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	opsDone := make(chan error, 1)
	if lns.ops != nil {
		serving = append(serving, "metrics_addr", lns.ops.Addr().String())
		go func() { opsDone <- ops.Serve(serveCtx, lns.ops, metrics.Handler(), svc.Ready) }()
	} else {
		opsDone <- nil
	}

	log.Info("serving", serving...)
	handler := kitexrpc.NewHandler(svc, log, metrics, authenticator(verifier))
	err = kitexrpc.Serve(serveCtx, handler, kitexrpc.ServerConfig{
		Listener: lns.rpc, ExitWait: cfg.ExitWait, Options: opts,
		MaxRequestBytes: kitexrpc.MaxRequestBytesFor(cfg.MaxTextBytes),
	})
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

// listeners are the service's sockets, bound before anything says
// "serving": a taken port ends the start with the bind error, and with a
// free port (":0") the bound one is what is logged and registered.
type listeners struct {
	rpc net.Listener
	ops net.Listener // nil when --metrics-addr is empty
}

func listen(cfg config) (listeners, error) {
	var lns listeners
	var err error
	if lns.rpc, err = net.Listen("tcp", cfg.RPCAddr); err != nil {
		return listeners{}, fmt.Errorf("rpc: %w", err)
	}
	if cfg.MetricsAddr != "" {
		if lns.ops, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			lns.rpc.Close()
			return listeners{}, fmt.Errorf("metrics: %w", err)
		}
	}
	return lns, nil
}

func (l listeners) close() {
	l.rpc.Close()
	if l.ops != nil {
		l.ops.Close()
	}
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

func registration(cfg config, advertise net.Addr, log *slog.Logger) ([]server.Option, error) {
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

// kitexLog is Kitex's logger: program.FrameworkLog with Kitex's SetLevel.
type kitexLog struct{ program.FrameworkLog }

var _ klog.FullLogger = kitexLog{}

// SetLevel is a no-op: --log-level filters every line.
func (kitexLog) SetLevel(klog.Level) {}

// waiterMemory is what a waiting call holds in a replica, at most: its
// goroutine, its call's state and its place in the notifier. It was
// measured with 10,000 waiting long polls while a waiting goroutine's stack
// was 16 KiB; it is 8 KiB now, so the limit grows by more than the waiters
// need (docs/performance.md, "Long polls").
const waiterMemory = 32 << 10
