package main

import (
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/envflag"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

// config is everything the gateway can be told at start. Each flag has an
// environment variable; the flag wins.
type config struct {
	HTTPAddr    string
	MetricsAddr string
	Services    []string
	Etcd        []string
	EtcdUser    string
	// EtcdPasswordFile holds the etcd user's password (never logged).
	EtcdPasswordFile string
	RPCTimeout       time.Duration
	RequestTimeout   time.Duration
	MaxBodyBytes     int
	RPCBatch         int
	RPCBatchLanes    int
	PageCacheMiB     int
	SendRate         float64
	SendBurst        int
	PullRate         float64
	PullBurst        int
	TrustedProxies   []netip.Prefix
	MaxWait          time.Duration
	MaxWaiters       int
	// DevLogin serves POST /api/dev-login (tokens for anyone who asks), on
	// a loopback listener only.
	DevLogin bool
	program.Settings
	Auth jwtauth.Settings
}

// parseConfig reads args (without the program name) and the environment
// through getenv.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := envflag.New("http-server", getenv, stderr)
	fs.String(&cfg.HTTPAddr, "http-addr", "PIGEONHOLE_HTTP_ADDR", ":8080", "address to serve HTTP on (with --auth off and no address given: 127.0.0.1:8080)")
	fs.String(&cfg.MetricsAddr, "metrics-addr", "PIGEONHOLE_HTTP_METRICS_ADDR", ":9091",
		"address of /metrics, /healthz and /readyz, apart from the API; empty: off (with --auth off and no address given: 127.0.0.1:9091)")
	fs.List(&cfg.Services, "service", "PIGEONHOLE_SERVICE", "127.0.0.1:8888", "message-service replicas, host:port[,host:port]")
	fs.List(&cfg.Etcd, "etcd", "PIGEONHOLE_ETCD", "", "etcd endpoints host:port[,host:port] to discover replicas in; overrides --service")
	fs.String(&cfg.EtcdUser, "etcd-user", "PIGEONHOLE_ETCD_USER", "", "etcd user to discover replicas as (read access suffices); empty: none")
	fs.String(&cfg.EtcdPasswordFile, "etcd-password-file", "PIGEONHOLE_ETCD_PASSWORD_FILE", "", "file holding the etcd user's password")
	fs.Duration(&cfg.RPCTimeout, "rpc-timeout", "PIGEONHOLE_RPC_TIMEOUT", rpcclient.DefaultTimeout, "timeout of one RPC attempt to the message service")
	fs.Duration(&cfg.RequestTimeout, "request-timeout", "PIGEONHOLE_REQUEST_TIMEOUT", gateway.DefaultRequestTimeout, "deadline of one HTTP request")
	fs.Int(&cfg.MaxBodyBytes, "max-body-bytes", "PIGEONHOLE_MAX_BODY_BYTES", gateway.DefaultMaxBodyBytes, "largest request body")
	fs.Int(&cfg.RPCBatch, "rpc-batch", "PIGEONHOLE_RPC_BATCH", 64,
		"most concurrent sends (or pulls) forwarded in one batch RPC; 1: one RPC each, for replicas without SendBatch/PullBatch")
	fs.Int(&cfg.RPCBatchLanes, "rpc-batch-lanes", "PIGEONHOLE_RPC_BATCH_LANES", rpcclient.DefaultBatchLanes, "batch RPCs of each kind in flight at once")
	fs.Int(&cfg.PageCacheMiB, "page-cache-mib", "PIGEONHOLE_PAGE_CACHE_MIB", 32,
		"MiB of final pull answers kept to answer the same pulls without an RPC; 0: off")
	fs.Float(&cfg.SendRate, "send-rate", "PIGEONHOLE_SEND_RATE", gateway.DefaultSendRate, "sends a second per caller (token subject, or client address without auth); 0: no limit")
	fs.Int(&cfg.SendBurst, "send-burst", "PIGEONHOLE_SEND_BURST", gateway.DefaultSendBurst, "sends a caller may make at once")
	fs.Float(&cfg.PullRate, "pull-rate", "PIGEONHOLE_PULL_RATE", gateway.DefaultPullRate, "pulls a second per caller; 0: no limit")
	fs.Int(&cfg.PullBurst, "pull-burst", "PIGEONHOLE_PULL_BURST", gateway.DefaultPullBurst, "pulls a caller may make at once")
	var proxies []string
	fs.List(&proxies, "trusted-proxies", "PIGEONHOLE_TRUSTED_PROXIES", "", "CIDRs of proxies whose X-Forwarded-For names the client's address")
	fs.Duration(&cfg.MaxWait, "max-wait", "PIGEONHOLE_MAX_WAIT", pigeonhole.DefaultMaxWait,
		"longest a pull's or inbox call's wait_ms may wait; its deadline is that plus --request-timeout")
	fs.Int(&cfg.MaxWaiters, "max-waiters", "PIGEONHOLE_MAX_WAITERS", gateway.DefaultMaxWaiters,
		"most pulls and inbox calls waiting at once; more are answered at once, as without wait_ms")
	cfg.Settings.Define(fs)
	fs.Bool(&cfg.DevLogin, "dev-login", "PIGEONHOLE_DEV_LOGIN", false,
		"serve POST /api/dev-login, which mints a token for any member id, for trying the web client (needs --auth jwt with --jwt-secret-file; loopback listeners only)")
	cfg.Auth.Define(fs)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if err := cfg.Settings.Check(); err != nil {
		return config{}, err
	}
	if err := cfg.Auth.Check(); err != nil {
		return config{}, err
	}
	if cfg.DevLogin && (!cfg.Auth.On() || cfg.Auth.SecretFile == "") {
		return config{}, fmt.Errorf("--dev-login needs --auth jwt and --jwt-secret-file: it mints HS256 tokens")
	}
	if !cfg.Auth.On() {
		// Without authentication, only this host may call, unless told.
		cfg.HTTPAddr = program.LocalUnlessGiven(cfg.HTTPAddr, fs.Given("http-addr"))
		cfg.MetricsAddr = program.LocalUnlessGiven(cfg.MetricsAddr, fs.Given("metrics-addr"))
	}
	for _, p := range proxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return config{}, fmt.Errorf("--trusted-proxies: %w", err)
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, prefix.Masked())
	}
	if cfg.SendRate < 0 || cfg.PullRate < 0 || cfg.SendBurst < 1 || cfg.PullBurst < 1 {
		return config{}, fmt.Errorf("--send-rate and --pull-rate must not be negative, --send-burst and --pull-burst must be positive")
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
		"http_addr", c.HTTPAddr, "metrics_addr", c.MetricsAddr, "service", c.Services, "etcd", c.Etcd, "etcd_user", c.EtcdUser, "etcd_password_file", c.EtcdPasswordFile, "rpc_timeout", c.RPCTimeout,
		"request_timeout", c.RequestTimeout, "max_body_bytes", c.MaxBodyBytes,
		"rpc_batch", c.RPCBatch, "rpc_batch_lanes", c.RPCBatchLanes, "page_cache_mib", c.PageCacheMiB,
		"max_wait", c.MaxWait, "max_waiters", c.MaxWaiters,
		"send_rate", c.SendRate, "send_burst", c.SendBurst, "pull_rate", c.PullRate, "pull_burst", c.PullBurst,
		"trusted_proxies", c.TrustedProxies, "dev_login", c.DevLogin,
	}, append(c.Settings.LogAttrs(), c.Auth.LogAttrs()...)...)
}
