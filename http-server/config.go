package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
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
	ExitWait       time.Duration
	LogLevel       slog.Level
}

// parseConfig reads args (without the program name) and the environment
// through getenv.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("http-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	str := func(p *string, name, env, def, usage string) {
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" ($"+env+")")
	}
	dur := func(p *time.Duration, name, env string, def time.Duration, usage string) {
		if v, err := time.ParseDuration(getenv(env)); err == nil {
			def = v
		}
		fs.DurationVar(p, name, def, usage+" ($"+env+")")
	}
	var services, etcd, level string
	str(&cfg.HTTPAddr, "http-addr", "PIGEONHOLE_HTTP_ADDR", ":8080", "address to serve HTTP on")
	str(&services, "service", "PIGEONHOLE_SERVICE", "127.0.0.1:8888", "message-service replicas, host:port[,host:port]")
	str(&etcd, "etcd", "PIGEONHOLE_ETCD", "", "etcd endpoints host:port[,host:port] to discover replicas in; overrides --service")
	dur(&cfg.RPCTimeout, "rpc-timeout", "PIGEONHOLE_RPC_TIMEOUT", 3*time.Second, "timeout of one RPC to the message service")
	dur(&cfg.RequestTimeout, "request-timeout", "PIGEONHOLE_REQUEST_TIMEOUT", 5*time.Second, "deadline of one HTTP request")
	str(&level, "log-level", "PIGEONHOLE_LOG_LEVEL", "info", "debug, info, warn or error")
	fs.IntVar(&cfg.MaxBodyBytes, "max-body-bytes", 1<<20, "largest request body")
	fs.DurationVar(&cfg.ExitWait, "exit-wait", 5*time.Second, "how long in-flight requests may finish on shutdown")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return config{}, fmt.Errorf("--log-level: %w", err)
	}
	cfg.Services = splitList(services)
	cfg.Etcd = splitList(etcd)
	if len(cfg.Services) == 0 && len(cfg.Etcd) == 0 {
		return config{}, fmt.Errorf("--service: no message-service address")
	}
	return cfg, nil
}

// logAttrs is the config as logged at start (it holds no secrets).
func (c config) logAttrs() []any {
	return []any{
		"http_addr", c.HTTPAddr, "service", c.Services, "etcd", c.Etcd, "rpc_timeout", c.RPCTimeout,
		"request_timeout", c.RequestTimeout, "max_body_bytes", c.MaxBodyBytes,
		"exit_wait", c.ExitWait, "log_level", c.LogLevel.String(),
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
