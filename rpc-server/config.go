package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
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
	CommitLanes   int
	ExitWait      time.Duration
	LogLevel      slog.Level
	Etcd          []string
	LeaseTTL      time.Duration
	Drain         time.Duration
	MetricsAddr   string
}

// parseConfig reads args (without the program name) and the environment
// through getenv.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("rpc-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	str := func(p *string, name, env, def, usage string) {
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" ($"+env+")")
	}
	num := func(p *int, name, env string, def int, usage string) {
		if v, err := strconv.Atoi(getenv(env)); err == nil {
			def = v
		}
		fs.IntVar(p, name, def, usage+" ($"+env+")")
	}
	dur := func(p *time.Duration, name, env string, def time.Duration, usage string) {
		if v, err := time.ParseDuration(getenv(env)); err == nil {
			def = v
		}
		fs.DurationVar(p, name, def, usage+" ($"+env+")")
	}
	var level, etcd string
	str(&cfg.RPCAddr, "rpc-addr", "PIGEONHOLE_RPC_ADDR", ":8888", "address to serve Kitex RPC on")
	str(&cfg.AdvertiseAddr, "advertise-addr", "PIGEONHOLE_ADVERTISE_ADDR", "", "address to register in discovery when it differs from --rpc-addr")
	str(&cfg.MySQL, "mysql", "PIGEONHOLE_MYSQL", "", "MySQL DSN (go-sql-driver format); empty means the embedded store")
	str(&cfg.DataDir, "data-dir", "PIGEONHOLE_DATA_DIR", "./data", "directory of the embedded store")
	num(&cfg.MaxTextBytes, "max-text-bytes", "PIGEONHOLE_MAX_TEXT_BYTES", 64<<10, "largest message text in bytes")
	num(&cfg.MaxPull, "max-pull", "PIGEONHOLE_MAX_PULL", 100, "largest page a pull returns")
	num(&cfg.CommitLanes, "commit-lanes", "PIGEONHOLE_COMMIT_LANES", 4, "concurrent group-commit transactions (MySQL)")
	str(&level, "log-level", "PIGEONHOLE_LOG_LEVEL", "info", "debug, info, warn or error")
	str(&etcd, "etcd", "PIGEONHOLE_ETCD", "", "etcd endpoints host:port[,host:port] to register in; empty: no registration")
	dur(&cfg.LeaseTTL, "lease-ttl", "PIGEONHOLE_LEASE_TTL", 5*time.Second, "etcd lease TTL: how soon a dead replica's registration expires")
	dur(&cfg.Drain, "drain", "PIGEONHOLE_DRAIN", 6*time.Second, "how long a deregistered replica keeps serving before it stops accepting")
	str(&cfg.MetricsAddr, "metrics-addr", "PIGEONHOLE_METRICS_ADDR", ":9090", "address of /metrics, /healthz and /readyz; empty: off")
	dur(&cfg.ExitWait, "exit-wait", "PIGEONHOLE_EXIT_WAIT", 5*time.Second, "how long in-flight requests may finish on shutdown")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return config{}, fmt.Errorf("--log-level: %w", err)
	}
	cfg.Etcd = splitList(etcd)
	if cfg.LeaseTTL < time.Second {
		return config{}, fmt.Errorf("--lease-ttl must be at least 1s")
	}
	if cfg.MaxTextBytes <= 0 || cfg.MaxPull <= 0 {
		return config{}, fmt.Errorf("--max-text-bytes and --max-pull must be positive")
	}
	return cfg, nil
}

// logAttrs is the config as logged at start, the DSN redacted.
func (c config) logAttrs(redact func(string) string) []any {
	store := "embedded " + c.DataDir
	if c.MySQL != "" {
		store = "mysql " + redact(c.MySQL)
	}
	return []any{
		"rpc_addr", c.RPCAddr, "advertise_addr", c.AdvertiseAddr, "store", store,
		"max_text_bytes", c.MaxTextBytes, "max_pull", c.MaxPull, "commit_lanes", c.CommitLanes,
		"exit_wait", c.ExitWait, "log_level", c.LogLevel.String(), "etcd", c.Etcd,
		"lease_ttl", c.LeaseTTL, "drain", c.Drain, "metrics_addr", c.MetricsAddr,
	}
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
