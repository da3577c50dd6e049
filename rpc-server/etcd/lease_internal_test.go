package etcd

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/kitex/pkg/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestLeaseTTLComesFromConfigNotTheEnvironment registers a replica in a
// real etcd and reads its key's lease back: it must have the configured
// TTL, although nothing set the library's environment variable.
func TestLeaseTTLComesFromConfigNotTheEnvironment(t *testing.T) {
	if v, ok := os.LookupEnv("KITEX_ETCD_REGISTRY_LEASE_TTL"); ok {
		t.Skipf("KITEX_ETCD_REGISTRY_LEASE_TTL=%s is set in this environment", v)
	}
	endpoint := startEtcd(t)
	const ttl = 7 * time.Second
	r, err := newRegistry(Config{Endpoints: []string{endpoint}, ServiceName: "lease.test", LeaseTTL: ttl,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	info := &registry.Info{ServiceName: "lease.test", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8888}, Weight: 10}
	if err := r.Register(info); err != nil {
		t.Fatalf("register: %v", err)
	}
	t.Cleanup(func() { _ = r.Deregister(info) })
	if _, ok := os.LookupEnv("KITEX_ETCD_REGISTRY_LEASE_TTL"); ok {
		t.Fatal("registering set the process environment")
	}

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	var keys int
	for _, kv := range resp.Kvs {
		if !strings.Contains(string(kv.Key), "lease.test") {
			continue
		}
		keys++
		lease, err := cli.TimeToLive(ctx, clientv3.LeaseID(kv.Lease))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := lease.GrantedTTL, int64(ttl/time.Second); got != want {
			t.Fatalf("lease TTL of %s: got %ds, want %ds", kv.Key, got, want)
		}
	}
	if keys != 1 {
		t.Fatalf("found %d registration keys, want 1", keys)
	}
}

// startEtcd runs a throwaway single-member etcd on free loopback ports
// until the test ends and returns its client endpoint. Without etcd the
// test skips, unless PIGEONHOLE_REQUIRE_ETCD=1 (make test sets it).
func startEtcd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("PIGEONHOLE_REQUIRE_ETCD") == "1" {
			t.Fatal("etcd is not installed")
		}
		t.Skip("etcd is not installed; set PIGEONHOLE_REQUIRE_ETCD=1 to make this a failure")
	}
	client, peer := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	logFile, err := os.Create(filepath.Join(dir, "etcd.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--name", "lease", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", "http://"+client, "--advertise-client-urls", "http://"+client,
		"--listen-peer-urls", "http://"+peer, "--initial-advertise-peer-urls", "http://"+peer,
		"--initial-cluster", "lease=http://"+peer)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		logFile.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + client + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return client
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("etcd did not become healthy: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
