package main

import (
	"fmt"
	"io"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/notify"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/envflag"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

// The listen addresses without --etcd. With --etcd and no address given,
// each listener takes a free port instead (anyPort), so a second replica
// starts beside the first on one host; the bound ports are logged, and the
// RPC one is what etcd holds.
const (
	defaultRPCAddr     = ":8888"
	defaultMetricsAddr = ":9090"
	anyPort            = ":0"
)

// config is everything the message service can be told at start. Each flag
// has an environment variable; the flag wins.
type config struct {
	RPCAddr       string
	AdvertiseAddr string
	MySQL         string // secret: logged redacted
	DataDir       string
	MaxTextBytes  int
	MaxPull       int
	MaxPageBytes  int
	MaxGroup      int
	CommitLanes   int
	RangeCacheMiB int
	MaxWait       time.Duration
	WaitPoll      time.Duration
	MaxWaiters    int
	program.Settings
	Auth     jwtauth.Settings
	Etcd     []string
	EtcdUser string
	// EtcdPasswordFile holds the etcd user's password (never logged).
	EtcdPasswordFile string
	LeaseTTL         time.Duration
	Drain            time.Duration
	MetricsAddr      string
}

// parseConfig reads args (without the program name) and the environment
// through getenv.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := envflag.New("rpc-server", getenv, stderr)
	fs.String(&cfg.RPCAddr, "rpc-addr", "PIGEONHOLE_RPC_ADDR", defaultRPCAddr,
		"address to serve Kitex RPC on; with --etcd, unless given, a free port (logged and registered); with --auth off, unless given, on 127.0.0.1")
	fs.String(&cfg.AdvertiseAddr, "advertise-addr", "PIGEONHOLE_ADVERTISE_ADDR", "", "address to register in discovery when it differs from --rpc-addr; a host alone takes the port bound")
	fs.String(&cfg.MySQL, "mysql", "PIGEONHOLE_MYSQL", "", "MySQL DSN (go-sql-driver format); empty means the embedded store")
	fs.String(&cfg.DataDir, "data-dir", "PIGEONHOLE_DATA_DIR", "./data", "directory of the embedded store")
	fs.Int(&cfg.MaxTextBytes, "max-text-bytes", "PIGEONHOLE_MAX_TEXT_BYTES", pigeonhole.DefaultMaxTextBytes, "largest message text in bytes")
	fs.Int(&cfg.MaxPull, "max-pull", "PIGEONHOLE_MAX_PULL", pigeonhole.DefaultMaxPull, "largest page a pull returns")
	fs.Int(&cfg.MaxPageBytes, "max-page-bytes", "PIGEONHOLE_MAX_PAGE_BYTES", pigeonhole.DefaultMaxPageBytes,
		"most text in bytes one page carries: a page stops before the message that would go past it (at least --max-text-bytes)")
	fs.Int(&cfg.MaxGroup, "max-group-members", "PIGEONHOLE_MAX_GROUP_MEMBERS", pigeonhole.DefaultMaxGroupMembers, "most members of a group chat")
	fs.Int(&cfg.CommitLanes, "commit-lanes", "PIGEONHOLE_COMMIT_LANES", mysql.DefaultCommitLanes, "most group-commit transactions at once (MySQL); one more starts only when the newest has run "+sqlstore.DefaultStallAfter.String())
	fs.Int(&cfg.RangeCacheMiB, "range-cache-mib", "PIGEONHOLE_RANGE_CACHE_MIB", 32,
		"memory for history already read, answered without the database (new messages always come from it); 0: off")
	fs.Duration(&cfg.MaxWait, "max-wait", "PIGEONHOLE_MAX_WAIT", pigeonhole.DefaultMaxWait, "longest a pull's or inbox call's wait_ms may wait")
	fs.Int(&cfg.MaxWaiters, "max-waiters", "PIGEONHOLE_MAX_WAITERS", notify.DefaultMaxWaiters,
		"most pulls and inbox calls waiting at once, from all gateways; more are answered at once, as without wait_ms")
	fs.Duration(&cfg.WaitPoll, "wait-poll", "PIGEONHOLE_WAIT_POLL", notify.DefaultInterval,
		"while pulls wait, how often the database is asked which chats took messages through other replicas (up to 4 times less often while none did)")
	fs.List(&cfg.Etcd, "etcd", "PIGEONHOLE_ETCD", "", "etcd endpoints host:port[,host:port] to register in; empty: no registration")
	fs.String(&cfg.EtcdUser, "etcd-user", "PIGEONHOLE_ETCD_USER", "", "etcd user to register as, for an etcd with authentication; empty: none")
	fs.String(&cfg.EtcdPasswordFile, "etcd-password-file", "PIGEONHOLE_ETCD_PASSWORD_FILE", "", "file holding the etcd user's password")
	fs.Duration(&cfg.LeaseTTL, "lease-ttl", "PIGEONHOLE_LEASE_TTL", 5*time.Second, "etcd lease TTL: how soon a dead replica's registration expires")
	fs.Duration(&cfg.Drain, "drain", "PIGEONHOLE_DRAIN", 6*time.Second, "how long a deregistered replica keeps serving before it stops accepting")
	fs.String(&cfg.MetricsAddr, "metrics-addr", "PIGEONHOLE_METRICS_ADDR", defaultMetricsAddr,
		"address of /metrics, /healthz and /readyz; empty: off; with --etcd, unless given, a free port (logged); with --auth off, unless given, on 127.0.0.1")
	cfg.Settings.Define(fs)
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
	if len(cfg.Etcd) > 0 {
		if !fs.Given("rpc-addr") {
			cfg.RPCAddr = anyPort
		}
		if !fs.Given("metrics-addr") {
			cfg.MetricsAddr = anyPort
		}
	}
	if !cfg.Auth.On() {
		// Without authentication, only this host may call, unless told.
		cfg.RPCAddr = program.LocalUnlessGiven(cfg.RPCAddr, fs.Given("rpc-addr"))
		cfg.MetricsAddr = program.LocalUnlessGiven(cfg.MetricsAddr, fs.Given("metrics-addr"))
	}
	if cfg.LeaseTTL < time.Second {
		return config{}, fmt.Errorf("--lease-ttl must be at least 1s")
	}
	if cfg.RangeCacheMiB < 0 {
		return config{}, fmt.Errorf("--range-cache-mib must not be negative")
	}
	if cfg.MaxWait <= 0 || cfg.WaitPoll <= 0 || cfg.MaxWaiters <= 0 {
		return config{}, fmt.Errorf("--max-wait, --wait-poll and --max-waiters must be positive")
	}
	if cfg.MaxTextBytes <= 0 || cfg.MaxPull <= 0 || cfg.MaxGroup <= 0 {
		return config{}, fmt.Errorf("--max-text-bytes, --max-pull and --max-group-members must be positive")
	}
	if cfg.MaxPageBytes < cfg.MaxTextBytes {
		// A page of one message must fit, or it would be over the budget.
		return config{}, fmt.Errorf("--max-page-bytes (%d) must be at least --max-text-bytes (%d)", cfg.MaxPageBytes, cfg.MaxTextBytes)
	}
	return cfg, nil
}

// logAttrs is the config as logged at start, the DSN redacted.
func (c config) logAttrs(redact func(string) string) []any {
	store := "embedded " + c.DataDir
	if c.MySQL != "" {
		store = "mysql " + redact(c.MySQL)
	}
	return append([]any{
		"rpc_addr", c.RPCAddr, "advertise_addr", c.AdvertiseAddr, "store", store,
		"max_text_bytes", c.MaxTextBytes, "max_pull", c.MaxPull, "max_page_bytes", c.MaxPageBytes, "max_group_members", c.MaxGroup,
		"commit_lanes", c.CommitLanes,
		"range_cache_mib", c.RangeCacheMiB, "max_wait", c.MaxWait, "wait_poll", c.WaitPoll, "max_waiters", c.MaxWaiters, "etcd", c.Etcd,
		"etcd_user", c.EtcdUser, "etcd_password_file", c.EtcdPasswordFile,
		"lease_ttl", c.LeaseTTL, "drain", c.Drain, "metrics_addr", c.MetricsAddr,
	}, append(c.Settings.LogAttrs(), c.Auth.LogAttrs()...)...)
}
