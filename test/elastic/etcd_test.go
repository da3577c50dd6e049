package elastic_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// startEtcd runs a throwaway single-member etcd (Debian's etcd-server) on
// free loopback ports and returns its client endpoint. Without etcd the
// test skips, unless PIGEONHOLE_REQUIRE_ETCD=1 (make test sets it).
func startEtcd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		requireOrSkip(t, "etcd is not installed (Debian: apt-get install etcd-server)")
	}
	client, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	peer, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := harness.Start(harness.Command{
		Name: "etcd",
		Path: bin,
		Args: []string{
			"--name", "elastic", "--data-dir", filepath.Join(dir, "data"),
			"--listen-client-urls", "http://" + client, "--advertise-client-urls", "http://" + client,
			"--listen-peer-urls", "http://" + peer, "--initial-advertise-peer-urls", "http://" + peer,
			"--initial-cluster", "elastic=http://" + peer,
		},
		LogPath: filepath.Join(dir, "etcd.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	// etcd 3.4 reports SIGTERM as its exit status; only our own servers
	// must exit 0.
	t.Cleanup(func() { _ = p.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := harness.WaitHTTP(ctx, p, "http://"+client+"/health"); err != nil {
		t.Fatalf("etcd: %v\n%s", err, p.LogTail(4096))
	}
	return client
}
