package main

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

// TestConfigNames pins the flag and variable names scripts depend on.
func TestConfigNames(t *testing.T) {
	env := map[string]string{"PIGEONHOLE_SERVICE": "a:1, b:2", "PIGEONHOLE_HTTP_ADDR": "127.0.0.1:7"}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:7" || !slices.Equal(cfg.Services, []string{"a:1", "b:2"}) || len(cfg.Etcd) != 0 {
		t.Fatalf("got %+v", cfg)
	}
	def, err := parseConfig([]string{"--etcd", "e:2379"}, func(string) string { return "" }, io.Discard)
	if err != nil || def.HTTPAddr != "127.0.0.1:8080" || def.MetricsAddr != "127.0.0.1:9091" || !slices.Equal(def.Services, []string{"127.0.0.1:8888"}) || !slices.Equal(def.Etcd, []string{"e:2379"}) {
		t.Fatalf("defaults: got %+v, %v", def, err)
	}
	if def.RPCBatch != 64 || def.RPCBatchLanes != 8 || def.PageCacheMiB != 32 {
		t.Fatalf("defaults: batches of %d items, %d lanes, page cache %d MiB", def.RPCBatch, def.RPCBatchLanes, def.PageCacheMiB)
	}
	if def.MaxWait != 30*time.Second || def.MaxWaiters != 10_000 {
		t.Fatalf("defaults: max wait %v, max waiters %d", def.MaxWait, def.MaxWaiters)
	}
	// Each default is the constant the code falls back on too.
	if def.MaxBodyBytes != gateway.DefaultMaxBodyBytes || def.RequestTimeout != gateway.DefaultRequestTimeout ||
		def.RPCTimeout != rpcclient.DefaultTimeout || def.RPCBatchLanes != rpcclient.DefaultBatchLanes || def.ExitWait != program.DefaultExitWait {
		t.Fatalf("defaults: body %d, request timeout %v, rpc timeout %v, batch lanes %d, exit wait %v",
			def.MaxBodyBytes, def.RequestTimeout, def.RPCTimeout, def.RPCBatchLanes, def.ExitWait)
	}
	off, err := parseConfig(nil, func(k string) string { return map[string]string{"PIGEONHOLE_PAGE_CACHE_MIB": "0"}[k] }, io.Discard)
	if err != nil || off.PageCacheMiB != 0 {
		t.Fatalf("PIGEONHOLE_PAGE_CACHE_MIB=0: got %d, %v", off.PageCacheMiB, err)
	}
	one, err := parseConfig(nil, func(k string) string { return map[string]string{"PIGEONHOLE_RPC_BATCH": "1"}[k] }, io.Discard)
	if err != nil || one.RPCBatch != 1 {
		t.Fatalf("PIGEONHOLE_RPC_BATCH=1: got %d, %v", one.RPCBatch, err)
	}
	for _, bad := range [][]string{{"--service", ""}, {"--rpc-batch", "0"}, {"--rpc-batch", "1025"}, {"--rpc-batch-lanes", "0"}, {"--page-cache-mib", "-1"}, {"--max-wait", "0s"}, {"--max-waiters", "0"}} {
		if _, err := parseConfig(bad, func(string) string { return "" }, io.Discard); err == nil {
			t.Fatalf("%v was accepted", bad)
		}
	}
}

func TestConfigAuthAndLimits(t *testing.T) {
	none := func(string) string { return "" }
	def, err := parseConfig(nil, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if def.Auth.Auth != "off" || def.SendRate != 20 || def.SendBurst != 40 || def.PullRate != 100 || def.PullBurst != 200 || len(def.TrustedProxies) != 0 {
		t.Fatalf("defaults: got auth %q, sends %g/%d, pulls %g/%d, proxies %v", def.Auth.Auth, def.SendRate, def.SendBurst, def.PullRate, def.PullBurst, def.TrustedProxies)
	}
	env := map[string]string{"PIGEONHOLE_AUTH": "jwt", "PIGEONHOLE_JWT_SECRET_FILE": "/s", "PIGEONHOLE_TRUSTED_PROXIES": "10.0.0.0/8, fd00::/8", "PIGEONHOLE_SEND_RATE": "0.5"}
	cfg, err := parseConfig([]string{"--jwt-audience", "pigeonhole", "--pull-burst", "7"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Auth.On() || cfg.Auth.SecretFile != "/s" || cfg.Auth.Audience != "pigeonhole" || cfg.SendRate != 0.5 || cfg.PullBurst != 7 || len(cfg.TrustedProxies) != 2 {
		t.Fatalf("got %+v", cfg)
	}
	for _, bad := range [][]string{{"--auth", "basic"}, {"--auth", "jwt"}, {"--auth", "jwt", "--jwks-url", "http://x", "--jwks-file", "/f"},
		{"--trusted-proxies", "10.0.0.1"}, {"--send-rate", "-1"}, {"--pull-burst", "0"}} {
		if _, err := parseConfig(bad, none, io.Discard); err == nil {
			t.Fatalf("%v was accepted", bad)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	if _, err := parseConfig([]string{"--version"}, func(string) string { return "" }, io.Discard); !errors.Is(err, program.ErrVersion) {
		t.Fatalf("--version: got %v, want program.ErrVersion", err)
	}
}

func TestDevLoginNeedsASecretAndLoopback(t *testing.T) {
	if _, err := parseConfig([]string{"--dev-login"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Errorf("--dev-login without --auth jwt was accepted")
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig([]string{"--dev-login", "--auth", "jwt", "--jwt-secret-file", secret}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := devLoginFor(cfg, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 8080}); err == nil {
		t.Errorf("--dev-login on a non-loopback listener was accepted")
	}
	if _, err := devLoginFor(cfg, &net.TCPAddr{IP: net.IPv6zero, Port: 8080}); err == nil {
		t.Errorf("--dev-login on every interface was accepted")
	}
	d, err := devLoginFor(cfg, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080})
	if err != nil || d == nil || string(d.Secret) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("on loopback: got %+v, %v", d, err)
	}
}
