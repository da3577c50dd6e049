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
	var level string
	str(&cfg.RPCAddr, "rpc-addr", "PIGEONHOLE_RPC_ADDR", ":8888", "address to serve Kitex RPC on")
	str(&cfg.AdvertiseAddr, "advertise-addr", "PIGEONHOLE_ADVERTISE_ADDR", "", "address to register in discovery when it differs from --rpc-addr")
	str(&cfg.MySQL, "mysql", "PIGEONHOLE_MYSQL", "", "MySQL DSN (go-sql-driver format); empty means the embedded store")
	str(&cfg.DataDir, "data-dir", "PIGEONHOLE_DATA_DIR", "./data", "directory of the embedded store")
	num(&cfg.MaxTextBytes, "max-text-bytes", "PIGEONHOLE_MAX_TEXT_BYTES", 64<<10, "largest message text in bytes")
	num(&cfg.MaxPull, "max-pull", "PIGEONHOLE_MAX_PULL", 100, "largest page a pull returns")
	num(&cfg.CommitLanes, "commit-lanes", "PIGEONHOLE_COMMIT_LANES", 4, "concurrent group-commit transactions (MySQL)")
	str(&level, "log-level", "PIGEONHOLE_LOG_LEVEL", "info", "debug, info, warn or error")
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
		"exit_wait", c.ExitWait, "log_level", c.LogLevel.String(),
	}
}
