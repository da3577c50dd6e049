// Command http-server is the pigeonhole gateway: HTTP (JSON or protobuf,
// per idl_http.proto) in front of the message service's Kitex RPC. It only
// wires; binding and encoding live in package gateway, the RPC client in
// package rpcclient.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"

	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/kitex/pkg/klog"
	etcdregistry "github.com/kitex-contrib/registry-etcd"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/pagecache"
	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/http-server/web"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "token" {
		if err := token(os.Args[2:], os.Getenv, os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "http-server token: %v\n", err)
			os.Exit(2)
		}
		return
	}
	program.Main("http-server", run)
}

// run serves until ctx ends (SIGINT/SIGTERM), then shuts down gracefully,
// letting in-flight requests finish.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.Healthcheck {
		return program.Probe(ctx, cfg.HTTPAddr, "/readyz")
	}
	log := cfg.Start(getenv, stderr)
	// Hertz and Kitex (the RPC client) log through package-level loggers;
	// they are set here, once, before any of their code runs.
	hlog.SetLogger(hertzLog{program.NewFrameworkLog(log, "hertz")})
	klog.SetLogger(kitexLog{program.NewFrameworkLog(log, "kitex")})
	log.Info("starting", cfg.logAttrs()...)
	if !cfg.Auth.On() {
		program.WarnIfOpen(log, "http", cfg.HTTPAddr)
	}
	if err := cfg.ServeProfiles(ctx, log); err != nil {
		return err
	}

	verifier, err := cfg.Auth.Verifier(ctx, log, pigeonhole.ValidateMemberID)
	if err != nil {
		return err
	}
	metrics := gateway.NewMetrics()
	pages := pagecache.New(int64(cfg.PageCacheMiB) << 20)
	metrics.WatchPageCache(pages)
	rpcCfg := rpcclient.Config{
		Addrs: cfg.Services, Timeout: cfg.RPCTimeout, RequestID: gateway.RequestID, Credential: gateway.Credential, Observer: metrics,
		MaxBatch: cfg.RPCBatch, BatchLanes: cfg.RPCBatchLanes,
	}
	if len(cfg.Etcd) > 0 {
		var opts []etcdregistry.Option
		if cfg.EtcdUser != "" || cfg.EtcdPasswordFile != "" {
			password, err := etcdPassword(cfg.EtcdUser, cfg.EtcdPasswordFile)
			if err != nil {
				return err
			}
			opts = append(opts, etcdregistry.WithAuthOpt(cfg.EtcdUser, password))
		}
		if rpcCfg.Resolver, err = etcdregistry.NewEtcdResolver(cfg.Etcd, opts...); err != nil {
			return fmt.Errorf("etcd: %w", err)
		}
	}
	client, err := web.Files()
	if err != nil {
		return err
	}
	svc, err := rpcclient.New(rpcCfg)
	if err != nil {
		return err
	}
	// Listening here, not in Hertz, turns a taken port into an error
	// instead of a panic.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	devLogin, err := devLoginFor(cfg, ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	// Each waiting call holds memory for as long as it waits: the soft
	// memory limit grows with them.
	waiting := new(atomic.Int64)
	go cfg.GrowMemoryLimit(ctx, getenv, waiterMemory, waiting.Load)
	h := gateway.New(ln.Addr().String(), svc, gateway.Config{
		MaxBodyBytes:   cfg.MaxBodyBytes,
		RequestTimeout: cfg.RequestTimeout,
		Logger:         log,
		Metrics:        metrics,
		Pages:          pages,
		Web:            client,
		DevLogin:       devLogin,
		Auth:           authenticator(verifier),
		SendLimit:      gateway.Limit{Rate: cfg.SendRate, Burst: cfg.SendBurst},
		PullLimit:      gateway.Limit{Rate: cfg.PullRate, Burst: cfg.PullBurst},
		TrustedProxies: cfg.TrustedProxies,
		MaxWait:        cfg.MaxWait,
		MaxWaiters:     cfg.MaxWaiters,
		Waiting:        waiting,
	}, server.WithListener(ln))
	opsCtx, stopOps := context.WithCancel(ctx)
	defer stopOps()
	opsDone := make(chan error, 1)
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics: %w", err)
		}
		log.Info("serving metrics and health", "metrics_addr", mln.Addr().String())
		go func() { opsDone <- program.ServeHTTP(opsCtx, mln, gateway.OpsHandler(svc, metrics)) }()
	} else {
		opsDone <- nil
	}
	errc := make(chan error, 1)
	go func() { errc <- h.Run() }()
	log.Info("serving", "http_addr", ln.Addr().String())

	select {
	case err := <-errc:
		stopOps()
		return errors.Join(fmt.Errorf("serve: %w", err), <-opsDone)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ExitWait)
	defer cancel()
	err = h.Shutdown(shutdownCtx)
	stopOps()
	err = errors.Join(err, <-opsDone)
	log.Info("stopped", "error", err)
	return err
}

// authenticator is v as the gateway's Authenticator: nil (no checks) when
// auth is off.
func authenticator(v *jwtauth.Verifier) gateway.Authenticator {
	if v == nil {
		return nil
	}
	return v
}

// etcdPassword reads the etcd user's password from a file (surrounding
// whitespace is not part of it).
func etcdPassword(user, path string) (string, error) {
	if user == "" || path == "" {
		return "", fmt.Errorf("--etcd-user and --etcd-password-file go together")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("etcd password: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// waiterMemory is what a waiting call holds in the gateway, about: its
// connection's buffers, its request, its goroutine and its RPC's state
// (measured with 10,000 waiting long polls: docs/performance.md).
const waiterMemory = 48 << 10

// hertzLog is Hertz's logger: program.FrameworkLog with Hertz's SetLevel.
type hertzLog struct{ program.FrameworkLog }

var _ hlog.FullLogger = hertzLog{}

// SetLevel is a no-op: --log-level filters every line.
func (hertzLog) SetLevel(hlog.Level) {}

// kitexLog is Kitex's logger: program.FrameworkLog with Kitex's SetLevel.
type kitexLog struct{ program.FrameworkLog }

var _ klog.FullLogger = kitexLog{}

// SetLevel is a no-op: --log-level filters every line.
func (kitexLog) SetLevel(klog.Level) {}

// devLoginFor returns the development sign-in's settings when --dev-login
// is on, and refuses it on a listener other hosts can reach: it hands a
// token for any member to anyone who asks.
func devLoginFor(cfg config, addr net.Addr) (*gateway.DevLogin, error) {
	if !cfg.DevLogin {
		return nil, nil
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		return nil, fmt.Errorf("--dev-login: %s is not a loopback address; the development sign-in gives a token to anyone who asks", addr)
	}
	secret, err := jwtauth.ReadSecret(cfg.Auth.SecretFile)
	if err != nil {
		return nil, err
	}
	return &gateway.DevLogin{Secret: secret, Issuer: cfg.Auth.Issuer, Audience: cfg.Auth.Audience}, nil
}
