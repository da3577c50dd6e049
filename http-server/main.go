// Command http-server is the pigeonhole gateway: HTTP (JSON or protobuf,
// per idl_http.proto) in front of the message service's Kitex RPC. It only
// wires; binding and encoding live in package gateway, the RPC client in
// package rpcclient.
package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/kitex/pkg/klog"
	etcdregistry "github.com/kitex-contrib/registry-etcd"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/pagecache"
	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

func main() { program.Main("http-server", run) }

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
	if err := cfg.ServeProfiles(ctx, log); err != nil {
		return err
	}

	metrics := gateway.NewMetrics()
	pages := pagecache.New(int64(cfg.PageCacheMiB) << 20)
	metrics.WatchPageCache(pages)
	rpcCfg := rpcclient.Config{
		Addrs: cfg.Services, Timeout: cfg.RPCTimeout, RequestID: gateway.RequestID, Observer: metrics,
		MaxBatch: cfg.RPCBatch, BatchLanes: cfg.RPCBatchLanes, Waiters: cfg.MaxWaiters,
	}
	if len(cfg.Etcd) > 0 {
		if rpcCfg.Resolver, err = etcdregistry.NewEtcdResolver(cfg.Etcd); err != nil {
			return fmt.Errorf("etcd: %w", err)
		}
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
	h := gateway.New(ln.Addr().String(), svc, gateway.Config{
		MaxBodyBytes:   cfg.MaxBodyBytes,
		RequestTimeout: cfg.RequestTimeout,
		Logger:         log,
		Metrics:        metrics,
		Pages:          pages,
		MaxWait:        cfg.MaxWait,
		MaxWaiters:     cfg.MaxWaiters,
	}, server.WithListener(ln))
	errc := make(chan error, 1)
	go func() { errc <- h.Run() }()
	log.Info("serving", "http_addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ExitWait)
	defer cancel()
	err = h.Shutdown(shutdownCtx)
	log.Info("stopped", "error", err)
	return err
}

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
