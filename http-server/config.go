package main

import (
	"fmt"
	"io"
	"time"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/envflag"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

// config is everything the gateway can be told at start. Each flag has an
// environment variable; the flag wins.
type config struct {
	HTTPAddr       string
	Services       []string
	Etcd           []string
	RPCTimeout     time.Duration
	RequestTimeout time.Duration
	MaxBodyBytes   int
	RPCBatch       int
	RPCBatchLanes  int
	PageCacheMiB   int
	MaxWait        time.Duration
	MaxWaiters     int
	program.Settings
}

// parseConfig reads args (without the program name) and the environment
// through getenv.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := envflag.New("http-server", getenv, stderr)
	fs.String(&cfg.HTTPAddr, "http-addr", "PIGEONHOLE_HTTP_ADDR", ":8080", "address to serve HTTP on")
	fs.List(&cfg.Services, "service", "PIGEONHOLE_SERVICE", "127.0.0.1:8888", "message-service replicas, host:port[,host:port]")
	fs.List(&cfg.Etcd, "etcd", "PIGEONHOLE_ETCD", "", "etcd endpoints host:port[,host:port] to discover replicas in; overrides --service")
	fs.Duration(&cfg.RPCTimeout, "rpc-timeout", "PIGEONHOLE_RPC_TIMEOUT", rpcclient.DefaultTimeout, "timeout of one RPC attempt to the message service")
	fs.Duration(&cfg.RequestTimeout, "request-timeout", "PIGEONHOLE_REQUEST_TIMEOUT", gateway.DefaultRequestTimeout, "deadline of one HTTP request")
	fs.Int(&cfg.MaxBodyBytes, "max-body-bytes", "PIGEONHOLE_MAX_BODY_BYTES", gateway.DefaultMaxBodyBytes, "largest request body")
	fs.Int(&cfg.RPCBatch, "rpc-batch", "PIGEONHOLE_RPC_BATCH", 64,
		"most concurrent sends (or pulls) forwarded in one batch RPC; 1: one RPC each, for replicas without SendBatch/PullBatch")
	fs.Int(&cfg.RPCBatchLanes, "rpc-batch-lanes", "PIGEONHOLE_RPC_BATCH_LANES", rpcclient.DefaultBatchLanes, "batch RPCs of each kind in flight at once")
	fs.Int(&cfg.PageCacheMiB, "page-cache-mib", "PIGEONHOLE_PAGE_CACHE_MIB", 32,
		"MiB of final pull answers kept to answer the same pulls without an RPC; 0: off")
	fs.Duration(&cfg.MaxWait, "max-wait", "PIGEONHOLE_MAX_WAIT", pigeonhole.DefaultMaxWait,
		"longest a pull's or inbox call's wait_ms may wait; its deadline is that plus --request-timeout")
	fs.Int(&cfg.MaxWaiters, "max-waiters", "PIGEONHOLE_MAX_WAITERS", gateway.DefaultMaxWaiters,
		"most pulls and inbox calls waiting at once; more are answered at once, as without wait_ms")
	cfg.Settings.Define(fs)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if err := cfg.Settings.Check(); err != nil {
		return config{}, err
	}
	if cfg.RPCBatch < 1 || cfg.RPCBatch > rpcclient.MaxBatch || cfg.RPCBatchLanes < 1 {
		return config{}, fmt.Errorf("--rpc-batch must be 1 to %d and --rpc-batch-lanes positive", rpcclient.MaxBatch)
	}
	if cfg.MaxWait <= 0 || cfg.MaxWaiters <= 0 {
		return config{}, fmt.Errorf("--max-wait and --max-waiters must be positive")
	}
	if cfg.PageCacheMiB < 0 {
		return config{}, fmt.Errorf("--page-cache-mib must not be negative")
	}
	if len(cfg.Services) == 0 && len(cfg.Etcd) == 0 {
		return config{}, fmt.Errorf("--service: no message-service address")
	}
	return cfg, nil
}

// logAttrs is the config as logged at start (it holds no secrets).
func (c config) logAttrs() []any {
	return append([]any{
		"http_addr", c.HTTPAddr, "service", c.Services, "etcd", c.Etcd, "rpc_timeout", c.RPCTimeout,
		"request_timeout", c.RequestTimeout, "max_body_bytes", c.MaxBodyBytes,
		"rpc_batch", c.RPCBatch, "rpc_batch_lanes", c.RPCBatchLanes, "page_cache_mib", c.PageCacheMiB,
		"max_wait", c.MaxWait, "max_waiters", c.MaxWaiters,
	}, c.Settings.LogAttrs()...)
}
