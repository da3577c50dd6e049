// Package elastic_test proves that the message service scales out and in
// under load with zero failed client requests: real processes of both
// binaries, MariaDB, etcd, replicas started, terminated and killed while
// clients send, followers tail (polling, and long-polling with wait_ms)
// and readers page through chat histories (largely from the replicas'
// range caches).
package elastic_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

// replica is one message-service process and where its metrics are.
type replica struct {
	*harness.RPCServer
	metricsURL string
}

func startReplica(t *testing.T, dsn, etcd string) *replica {
	t.Helper()
	metrics, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	srv := harness.StartRPCServer(t, harness.RPCOptions{
		MySQL: dsn,
		// A short lease so a killed replica's registration expires soon;
		// a drain longer than the gateways' 5 s discovery refresh.
		ExtraArgs: []string{"--etcd", etcd, "--lease-ttl", "2s", "--drain", "6s", "--metrics-addr", metrics},
	})
	return &replica{RPCServer: srv, metricsURL: "http://" + metrics + "/metrics"}
}

// elasticDuration is how long traffic flows (PIGEONHOLE_ELASTIC_DURATION
// overrides it, e.g. "60s").
func elasticDuration(t *testing.T) time.Duration {
	if v := os.Getenv("PIGEONHOLE_ELASTIC_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("PIGEONHOLE_ELASTIC_DURATION: %v", err)
		}
		return d
	}
	return 45 * time.Second
}

func TestScaleOutAndInUnderLoad(t *testing.T) {
	dsn := mysqltest.NewDSN(t)
	etcd := harness.StartEtcd(t)
	replicas := []*replica{startReplica(t, dsn, etcd), startReplica(t, dsn, etcd), startReplica(t, dsn, etcd)}
	var gateways []*harness.Gateway
	for i := 0; i < 2; i++ {
		gateways = append(gateways, harness.StartGateway(t, harness.GatewayOptions{
			Services:  []string{"127.0.0.1:1"}, // unused: --etcd wins
			ExtraArgs: []string{"--etcd", etcd},
		}))
	}
	start := time.Now()
	load := startLoad(t, gateways, 4, 8)

	time.Sleep(5 * time.Second)
	t.Log("scale out: starting a 4th replica")
	fourth := startReplica(t, dsn, etcd)
	replicas = append(replicas, fourth)
	waitServed(t, fourth, 15*time.Second)

	served := make(map[string]float64)
	t.Log("scale in: SIGTERM to replica 0")
	served["replica 0"] = scrapeRequests(t, replicas[0])
	replicas[0].Stop() // fails the test unless it drains and exits 0

	t.Log("crash: kill -9 replica 1")
	served["replica 1 before kill"] = scrapeRequests(t, replicas[1])
	replicas[1].Kill()
	time.Sleep(4 * time.Second)
	t.Log("restart replica 1")
	replicas[1].Start()
	waitServed(t, replicas[1], 15*time.Second)

	if rest := elasticDuration(t) - time.Since(start); rest > 0 {
		time.Sleep(rest)
	}
	report := load.stop(t)

	cacheHits := 0.0
	for i, r := range replicas[1:] {
		name := fmt.Sprintf("replica %d", i+1)
		served[name] = scrapeRequests(t, r)
		if served[name] == 0 {
			t.Errorf("%s served no requests", name)
		}
		cacheHits += scrapeSum(t, r.metricsURL, "pigeonhole_range_cache_lookups_total", `result="hit"`)
	}
	// The readers' checks above judge the range caches only if they were
	// used.
	if cacheHits == 0 {
		t.Error("no page came from a replica's range cache")
	}
	if served["replica 0"] == 0 || served["replica 1 before kill"] == 0 {
		t.Errorf("a replica served nothing before it was stopped: %v", served)
	}
	retries, pageHits := 0.0, 0.0
	for _, g := range gateways {
		retries += scrapeSum(t, g.MetricsURL, "pigeonhole_rpc_retries_total")
		pageHits += scrapeSum(t, g.MetricsURL, "pigeonhole_page_cache_lookups_total", `result="hit"`)
	}
	// Likewise for the gateways' page caches.
	if pageHits == 0 {
		t.Error("no page came from a gateway's page cache")
	}
	t.Logf("summary: %s; gateway RPC retries %.0f; requests served per replica %v; range-cache hits on the surviving replicas %.0f; page-cache hits on the gateways %.0f",
		report, retries, served, cacheHits, pageHits)
}
