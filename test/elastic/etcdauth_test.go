package elastic_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/etcd"
	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// TestEtcdWithAuthentication runs discovery through an etcd with
// authentication on: replicas register as a user that may write only the
// registry's keys, gateways discover as a read-only user, and neither an
// anonymous client nor the gateways' user can register a rogue replica.
func TestEtcdWithAuthentication(t *testing.T) {
	t.Parallel()
	endpoint := harness.StartEtcd(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	admin, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	passwords := map[string]string{"root": "root-pw", "replica": "replica-pw", "gateway": "gateway-pw"}
	end := clientv3.GetPrefixRangeEnd(etcd.RegistryPrefix)
	for _, step := range []func() error{
		func() error { _, err := admin.RoleAdd(ctx, "root"); return err },
		func() error { _, err := admin.UserAdd(ctx, "root", passwords["root"]); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.RoleAdd(ctx, "registrar"); return err },
		func() error {
			_, err := admin.RoleGrantPermission(ctx, "registrar", etcd.RegistryPrefix, end, clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := admin.RoleAdd(ctx, "discoverer"); return err },
		func() error {
			_, err := admin.RoleGrantPermission(ctx, "discoverer", etcd.RegistryPrefix, end, clientv3.PermissionType(clientv3.PermRead))
			return err
		},
		func() error { _, err := admin.UserAdd(ctx, "replica", passwords["replica"]); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "replica", "registrar"); return err },
		func() error { _, err := admin.UserAdd(ctx, "gateway", passwords["gateway"]); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "gateway", "discoverer"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("setting up etcd users: %v", err)
		}
	}
	credentials := func(user string) []string {
		path := filepath.Join(t.TempDir(), user+".password")
		if err := os.WriteFile(path, []byte(passwords[user]+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"--etcd", endpoint, "--etcd-user", user, "--etcd-password-file", path}
	}

	harness.StartRPCServer(t, harness.RPCOptions{ExtraArgs: append(credentials("replica"), "--lease-ttl", "2s", "--drain", "0s")})
	// Ready means a replica was discovered through etcd and answers.
	gw := harness.StartGateway(t, harness.GatewayOptions{Services: []string{"127.0.0.1:1"}, ExtraArgs: credentials("gateway")})
	resp, err := http.Post(gw.URL+"/api/send", "application/json", strings.NewReader(`{"chat":"e1:e2","text":"hi","sender":"e1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("send through etcd discovery with authentication: status %d", resp.StatusCode)
	}

	rogue := etcd.RegistryPrefix + "pigeonhole.message/203.0.113.66:8888"
	t.Run("AnonymousCannotRegister", func(t *testing.T) {
		anon, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer anon.Close()
		if _, err := anon.Put(ctx, rogue, `{"network":"tcp","address":"203.0.113.66:8888"}`); err == nil {
			t.Fatal("an anonymous client registered a replica")
		}
	})
	t.Run("GatewayUserCannotRegister", func(t *testing.T) {
		gwc, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Username: "gateway", Password: passwords["gateway"]})
		if err != nil {
			t.Fatal(err)
		}
		defer gwc.Close()
		if _, err := gwc.Put(ctx, rogue, `{"network":"tcp","address":"203.0.113.66:8888"}`); err == nil {
			t.Fatal("the gateways' read-only user registered a replica")
		}
	})
}
