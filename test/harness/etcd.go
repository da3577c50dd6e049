package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// StartEtcd runs a throwaway single-member etcd (Debian's etcd-server) on
// free loopback ports, stopped in t's Cleanup, and returns its client
// endpoint. Without etcd the test skips, unless PIGEONHOLE_REQUIRE_ETCD=1
// (make test sets it).
func StartEtcd(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		RequireOrSkip(t, "PIGEONHOLE_REQUIRE_ETCD", "etcd is not installed (Debian: apt-get install etcd-server)")
	}
	client, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	peer, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := Start(Command{
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
	if err := WaitHTTP(ctx, p, "http://"+client+"/health"); err != nil {
		t.Fatalf("etcd: %v\n%s", err, p.LogTail(4096))
	}
	return client
}

// RequireOrSkip skips t for a missing dependency, unless the variable
// require is "1", which makes it a failure.
func RequireOrSkip(t testing.TB, require, why string) {
	t.Helper()
	if os.Getenv(require) == "1" {
		t.Fatal(why)
	}
	t.Skip(why + "; set " + require + "=1 to make this a failure")
}
