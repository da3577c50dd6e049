package main

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/notify"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

// TestConfigNames pins the flag and variable names scripts depend on.
func TestConfigNames(t *testing.T) {
	env := map[string]string{"PIGEONHOLE_MYSQL": "u:p@tcp(db:3306)/x", "PIGEONHOLE_ETCD": "e1:2379,e2:2379"}
	cfg, err := parseConfig([]string{"--rpc-addr", "127.0.0.1:9", "--data-dir", "/d", "--lease-ttl", "3s"},
		func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RPCAddr != "127.0.0.1:9" || cfg.DataDir != "/d" || cfg.MySQL != env["PIGEONHOLE_MYSQL"] ||
		!slices.Equal(cfg.Etcd, []string{"e1:2379", "e2:2379"}) || cfg.LeaseTTL != 3*time.Second {
		t.Fatalf("got %+v", cfg)
	}
	def, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil || def.RPCAddr != "127.0.0.1:8888" || def.DataDir != "./data" || def.MySQL != "" || def.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("defaults: got %+v, %v", def, err)
	}
	if def.MaxWait != pigeonhole.DefaultMaxWait || def.WaitPoll != notify.DefaultInterval || def.MaxWaiters != notify.DefaultMaxWaiters {
		t.Fatalf("defaults: max wait %v, wait poll %v, max waiters %d", def.MaxWait, def.WaitPoll, def.MaxWaiters)
	}
	// Each default is the constant the code falls back on too.
	if def.MaxTextBytes != pigeonhole.DefaultMaxTextBytes || def.MaxPull != pigeonhole.DefaultMaxPull ||
		def.MaxPageBytes != pigeonhole.DefaultMaxPageBytes ||
		def.CommitLanes != mysql.DefaultCommitLanes || def.ExitWait != program.DefaultExitWait {
		t.Fatalf("defaults: text %d, pull %d, page bytes %d, lanes %d, exit wait %v",
			def.MaxTextBytes, def.MaxPull, def.MaxPageBytes, def.CommitLanes, def.ExitWait)
	}
	if env, err := parseConfig(nil, func(k string) string { return map[string]string{"PIGEONHOLE_MAX_PAGE_BYTES": "70000"}[k] }, io.Discard); err != nil || env.MaxPageBytes != 70000 {
		t.Fatalf("PIGEONHOLE_MAX_PAGE_BYTES=70000: got %d, %v", env.MaxPageBytes, err)
	}
	if def.RangeCacheMiB != 32 || def.PprofAddr != "" {
		t.Fatalf("defaults: range cache %d MiB, pprof %q", def.RangeCacheMiB, def.PprofAddr)
	}
	off, err := parseConfig(nil, func(k string) string { return map[string]string{"PIGEONHOLE_RANGE_CACHE_MIB": "0"}[k] }, io.Discard)
	if err != nil || off.RangeCacheMiB != 0 {
		t.Fatalf("PIGEONHOLE_RANGE_CACHE_MIB=0: got %d, %v", off.RangeCacheMiB, err)
	}
	if def.MaxGroup != 1000 {
		t.Fatalf("defaults: --max-group-members %d", def.MaxGroup)
	}
	if small, err := parseConfig([]string{"--max-group-members", "50"}, func(string) string { return "" }, io.Discard); err != nil || small.MaxGroup != 50 {
		t.Fatalf("--max-group-members 50: got %d, %v", small.MaxGroup, err)
	}
	for _, bad := range [][]string{{"--lease-ttl", "10ms"}, {"--range-cache-mib", "-1"}, {"--max-page-bytes", "1000"}, {"--max-wait", "0s"}, {"--wait-poll", "0s"}, {"--max-waiters", "0"}, {"--max-group-members", "0"}, {"--auth", "on"}, {"--auth", "jwt"}} {
		if _, err := parseConfig(bad, func(string) string { return "" }, io.Discard); err == nil {
			t.Fatalf("%v was accepted", bad)
		}
	}
}

func TestLoggedConfigMasksThePassword(t *testing.T) {
	cfg := config{MySQL: "user:hunter2@tcp(db:3306)/x"}
	for _, v := range cfg.logAttrs(mysql.RedactDSN) {
		if s, ok := v.(string); ok && strings.Contains(s, "hunter2") {
			t.Fatalf("password logged in %q", s)
		}
	}
	if got := mysql.RedactDSN(cfg.MySQL); !strings.Contains(got, "user:xxxxx@tcp(db:3306)/x") {
		t.Fatalf("redacted DSN %q", got)
	}
}

func TestListenersWithAuth(t *testing.T) {
	secret := map[string]string{"PIGEONHOLE_AUTH": "jwt", "PIGEONHOLE_JWT_SECRET_FILE": "/s"}
	on, err := parseConfig(nil, func(k string) string { return secret[k] }, io.Discard)
	if err != nil || on.RPCAddr != ":8888" || on.MetricsAddr != ":9090" {
		t.Fatalf("--auth jwt: got rpc %q, metrics %q, %v; want every interface", on.RPCAddr, on.MetricsAddr, err)
	}
	given, err := parseConfig([]string{"--rpc-addr", ":7000"}, func(k string) string { return map[string]string{"PIGEONHOLE_METRICS_ADDR": ":7001"}[k] }, io.Discard)
	if err != nil || given.RPCAddr != ":7000" || given.MetricsAddr != ":7001" {
		t.Fatalf("--auth off with addresses given: got rpc %q, metrics %q, %v", given.RPCAddr, given.MetricsAddr, err)
	}
}

// With --etcd, a second replica on the same host must start beside the
// first: addresses left unset take free ports, given ones are kept.
func TestEtcdTakesFreePortsUnlessGiven(t *testing.T) {
	getenv := func(env map[string]string) func(string) string { return func(k string) string { return env[k] } }
	cfg, err := parseConfig([]string{"--etcd", "e:2379"}, getenv(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Free ports, on loopback as every listener without --auth jwt.
	if cfg.RPCAddr != "127.0.0.1:0" || cfg.MetricsAddr != "127.0.0.1:0" {
		t.Fatalf("with --etcd and no addresses: rpc %q, metrics %q; want 127.0.0.1:0 twice", cfg.RPCAddr, cfg.MetricsAddr)
	}
	cfg, err = parseConfig([]string{"--etcd", "e:2379", "--rpc-addr", ":8888"}, getenv(map[string]string{"PIGEONHOLE_METRICS_ADDR": ":9091"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RPCAddr != ":8888" || cfg.MetricsAddr != ":9091" {
		t.Fatalf("given addresses: rpc %q, metrics %q; want :8888 and :9091", cfg.RPCAddr, cfg.MetricsAddr)
	}
	cfg, err = parseConfig([]string{"--etcd", "e:2379", "--metrics-addr="}, getenv(nil), io.Discard)
	if err != nil || cfg.MetricsAddr != "" {
		t.Fatalf("--metrics-addr= (off) with --etcd: got %q, %v", cfg.MetricsAddr, err)
	}
}

func TestVersionFlag(t *testing.T) {
	if _, err := parseConfig([]string{"--version"}, func(string) string { return "" }, io.Discard); !errors.Is(err, program.ErrVersion) {
		t.Fatalf("--version: got %v, want program.ErrVersion", err)
	}
}
