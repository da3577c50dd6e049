package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// registryPrefix is where kitex-contrib/registry-etcd keeps the message
// service's replicas: one key per advertised address.
const registryPrefix = "kitex/registry-etcd/pigeonhole.message/"

// The README's scale-out line, "start another rpc-server --etcd …", on one
// host: with --etcd and no addresses, each replica takes free ports, logs
// them and registers the bound RPC port, so the second starts beside the
// first instead of dying on :8888 or :9090.
func TestSecondReplicaOnOneHost(t *testing.T) {
	t.Parallel()
	bins := harness.MustBuild(t)
	etcd := harness.StartEtcd(t)
	var serving []harness.Record
	var procs []*harness.Process
	for i := range 2 {
		dir := t.TempDir()
		p, err := harness.Start(harness.Command{
			Name: fmt.Sprintf("rpc-server-%d", i),
			Path: bins.RPCServer,
			Args: []string{"--etcd", etcd, "--data-dir", filepath.Join(dir, "data"), "--drain", "1s"},
			Dir:  dir, LogPath: filepath.Join(dir, "rpc-server.log"),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := p.Stop(); err != nil {
				t.Errorf("%v\n%s", err, p.LogTail(8<<10))
			}
		})
		ctx, cancel := context.WithTimeout(t.Context(), harness.ReadyTimeout)
		rec, err := harness.WaitLog(ctx, p, "serving")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		serving = append(serving, rec)
		procs = append(procs, p)
	}

	var advertised []string
	for i, rec := range serving {
		for _, key := range []string{"rpc_addr", "metrics_addr", "advertise_addr"} {
			if rec.String(key) == "" {
				t.Fatalf("replica %d: serving record without %s: %v", i, key, rec)
			}
		}
		if port := portOf(t, rec.String("rpc_addr")); port == "8888" || port != portOf(t, rec.String("advertise_addr")) {
			t.Errorf("replica %d: rpc %s, advertised %s; want a free port, advertised as bound", i, rec.String("rpc_addr"), rec.String("advertise_addr"))
		}
		health := "http://127.0.0.1:" + portOf(t, rec.String("metrics_addr")) + "/healthz"
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		err := harness.WaitHTTP(ctx, procs[i], health)
		cancel()
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
		advertised = append(advertised, rec.String("advertise_addr"))
	}
	if advertised[0] == advertised[1] || serving[0].String("metrics_addr") == serving[1].String("metrics_addr") {
		t.Fatalf("both replicas on the same ports: %v and %v", serving[0], serving[1])
	}

	// Both are in etcd, where gateways look.
	deadline := time.Now().Add(10 * time.Second)
	for {
		keys := etcdKeys(t, etcd, registryPrefix)
		if slices.Contains(keys, registryPrefix+advertised[0]) && slices.Contains(keys, registryPrefix+advertised[1]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("registered: %v; want both %v", keys, advertised)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// portOf is the port of a host:port address.
func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// etcdKeys lists the keys under prefix through etcd's JSON gateway.
func etcdKeys(t *testing.T, endpoint, prefix string) []string {
	t.Helper()
	end := []byte(prefix)
	end[len(end)-1]++
	body, _ := json.Marshal(map[string]any{
		"key":       base64.StdEncoding.EncodeToString([]byte(prefix)),
		"range_end": base64.StdEncoding.EncodeToString(end),
		"keys_only": true,
	})
	resp, err := http.Post("http://"+endpoint+"/v3/kv/range", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		KVs []struct {
			Key []byte `json:"key"`
		} `json:"kvs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("etcd range: %s, %v", resp.Status, err)
	}
	var keys []string
	for _, kv := range answer.KVs {
		keys = append(keys, string(kv.Key))
	}
	return keys
}

// Every line both programs print is JSON, the frameworks' own lines
// (Kitex's in both, Hertz's in the gateway) included.
func TestLogsAreJSON(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, harness.RPCOptions{DataDir: t.TempDir()})
	var s sent
	sys.api.do(t, http.MethodPost, "/api/send", `{"chat":"a1:a2","text":"hi","sender":"a1"}`).decode(t, http.StatusOK, &s)
	var pg page
	sys.api.do(t, http.MethodGet, "/api/pull?chat=a1:a2", "").decode(t, http.StatusOK, &pg)
	sys.gw.Stop()
	sys.rpc.Stop()
	for _, c := range []struct {
		name, path string
		frameworks []string
	}{
		{"rpc-server", sys.rpc.LogPath(), []string{"kitex"}},
		{"http-server", sys.gw.LogPath(), []string{"hertz"}},
	} {
		records, notJSON, err := harness.ReadLog(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if len(notJSON) > 0 {
			t.Errorf("%s printed lines that are not JSON:\n%s", c.name, strings.Join(notJSON, "\n"))
		}
		for _, framework := range c.frameworks {
			if !slices.ContainsFunc(records, func(r harness.Record) bool { return r.String("logger") == framework }) {
				t.Errorf("%s: no line from %s's logger among %d records", c.name, framework, len(records))
			}
		}
		for _, r := range records {
			if r.String("level") == "" || r.String("msg") == "" || r.String("time") == "" {
				t.Errorf("%s: record without time, level or msg: %v", c.name, r)
			}
		}
	}
}

// A start that cannot bind its port ends with the bind error, logged as
// JSON, and never says "serving".
func TestTakenPortLogsTheBindErrorNotServing(t *testing.T) {
	t.Parallel()
	bins := harness.MustBuild(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() })
	addr := taken.Addr().String()
	for _, c := range []harness.Command{
		{Name: "rpc-server", Path: bins.RPCServer, Args: []string{"--rpc-addr", addr, "--metrics-addr=", "--data-dir", t.TempDir()}},
		{Name: "rpc-server", Path: bins.RPCServer, Args: []string{"--rpc-addr", "127.0.0.1:0", "--metrics-addr", addr, "--data-dir", t.TempDir()}},
		{Name: "http-server", Path: bins.HTTPServer, Args: []string{"--http-addr", addr}},
	} {
		c.LogPath = filepath.Join(t.TempDir(), c.Name+".log")
		p, err := harness.Start(c)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.Exited():
		case <-time.After(harness.ReadyTimeout):
			p.Kill()
			t.Fatalf("%s %v: still running with its port taken", c.Name, c.Args)
		}
		if p.ExitError() == nil {
			t.Errorf("%s %v: exited 0 with its port taken", c.Name, c.Args)
		}
		records, notJSON, err := harness.ReadLog(c.LogPath)
		if err != nil {
			t.Fatal(err)
		}
		if len(notJSON) > 0 {
			t.Errorf("%s %v printed lines that are not JSON:\n%s", c.Name, c.Args, strings.Join(notJSON, "\n"))
		}
		var bindError bool
		for _, r := range records {
			if strings.HasPrefix(r.String("msg"), "serving") {
				t.Errorf("%s %v logged %v with its port taken", c.Name, c.Args, r)
			}
			bindError = bindError || r.String("level") == "ERROR" &&
				strings.Contains(r.String("error"), "address already in use") && strings.Contains(r.String("error"), addr)
		}
		if !bindError {
			t.Errorf("%s %v: no ERROR record with the bind error; log:\n%s", c.Name, c.Args, p.LogTail(4<<10))
		}
	}
}

// Both programs answer --version with the module and revision of the
// build, on stdout, and exit 0.
func TestVersion(t *testing.T) {
	t.Parallel()
	bins := harness.MustBuild(t)
	for _, c := range []struct{ name, path, module string }{
		{"rpc-server", bins.RPCServer, "github.com/pigeonhole-im/pigeonhole/rpc-server"},
		{"http-server", bins.HTTPServer, "github.com/pigeonhole-im/pigeonhole/http-server"},
	} {
		out, err := exec.CommandContext(t.Context(), c.path, "--version").Output()
		if err != nil {
			t.Fatalf("%s --version: %v", c.name, err)
		}
		fields := strings.Fields(string(out))
		if len(fields) < 6 || fields[0] != c.name || fields[1] != c.module || fields[3] != "revision" ||
			!strings.HasPrefix(fields[len(fields)-1], "go1.") {
			t.Errorf("%s --version: %q; want name, module, version, revision and Go version", c.name, out)
		}
	}
}

// --healthcheck, what the container images run as their health check:
// exit 0 while the instance configured the same way is ready, 1 otherwise.
func TestHealthcheckFlag(t *testing.T) {
	t.Parallel()
	metrics, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	rpc := harness.StartRPCServer(t, harness.RPCOptions{DataDir: t.TempDir(), ExtraArgs: []string{"--metrics-addr", metrics}})
	gw := harness.StartGateway(t, harness.GatewayOptions{Services: []string{rpc.Addr}})
	bins := harness.MustBuild(t)
	healthcheck := func(path string, env ...string) error {
		cmd := exec.CommandContext(t.Context(), path, "--healthcheck")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := healthcheck(bins.RPCServer, "PIGEONHOLE_METRICS_ADDR="+metrics); err != nil {
		t.Errorf("rpc-server --healthcheck of a ready replica: %v", err)
	}
	if err := healthcheck(bins.HTTPServer, "PIGEONHOLE_HTTP_ADDR="+gw.Addr); err != nil {
		t.Errorf("http-server --healthcheck of a ready gateway: %v", err)
	}
	rpc.Stop()
	if err := healthcheck(bins.RPCServer, "PIGEONHOLE_METRICS_ADDR="+metrics); err == nil {
		t.Error("rpc-server --healthcheck passed with the replica stopped")
	}
	// The gateway is alive but not ready: no replica answers.
	if err := healthcheck(bins.HTTPServer, "PIGEONHOLE_HTTP_ADDR="+gw.Addr); err == nil {
		t.Error("http-server --healthcheck passed with no replica behind it")
	}
}
