package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// BenchmarkLongPollDelivery measures how soon a long-polling follower sees
// a message: three replicas on one MariaDB and two gateways, all found in
// etcd; senders send through one gateway, followers long-poll (wait_ms
// 10000) through the other, so that the replica that stores a message is
// rarely the one a follower waits on. 100 sends a second for 12 s over
// two chats: 1,200 messages, each checked to arrive exactly once and in
// order. Reported: delivery latency from a send's acknowledgement to the
// follower's answer, and the followers' pulls per delivered message. Run
// it without -race:
//
//	go test -run '^$' -bench LongPollDelivery -benchtime 1x ./test/bench
func BenchmarkLongPollDelivery(b *testing.B) {
	if harness.RaceEnabled {
		b.Skip("servers built with -race measure the detector")
	}
	ctx := context.Background()
	dir := filepath.Join(b.TempDir(), "mariadb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	db, err := mysqltest.Start(ctx, dir)
	if err != nil {
		harness.RequireOrSkip(b, "PIGEONHOLE_REQUIRE_MYSQL", err.Error())
	}
	b.Cleanup(func() { db.Stop() })
	if err := db.CreateDatabase(ctx, "pigeonhole_delivery"); err != nil {
		b.Fatal(err)
	}
	etcd := harness.StartEtcd(b)
	for range 3 {
		harness.StartRPCServer(b, harness.RPCOptions{MySQL: db.DSN("pigeonhole_delivery"), ExtraArgs: []string{"--etcd", etcd}})
	}
	var gateways []*harness.Gateway
	for range 2 {
		gateways = append(gateways, harness.StartGateway(b, harness.GatewayOptions{
			Services:  []string{"127.0.0.1:1"}, // unused: --etcd wins
			ExtraArgs: []string{"--etcd", etcd},
		}))
	}
	opts := load.Defaults()
	opts.Scenario, opts.Target, opts.FollowTarget = load.ScenarioFollow, gateways[0].URL, gateways[1].URL
	opts.Senders, opts.Followers, opts.Chats = 2, 2, 2
	opts.Rate, opts.Duration, opts.Warmup = 100, 12*time.Second, time.Second
	opts.Wait, opts.Timeout = 10*time.Second, 15*time.Second
	b.ResetTimer()
	var res *load.Result
	for range b.N {
		if res, err = load.Run(ctx, opts, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	f := res.Follow
	if !f.OK || f.Delivered < 1000 {
		b.Fatalf("delivered %d of %d acknowledged messages (at least 1,000 wanted), anomalies %v", f.Delivered, f.Expected, f.AnomalyCounts)
	}
	b.ReportMetric(float64(f.Delivered), "messages")
	b.ReportMetric(f.Delivery.P50, "p50-ms")
	b.ReportMetric(f.Delivery.P90, "p90-ms")
	b.ReportMetric(f.Delivery.P99, "p99-ms")
	b.ReportMetric(f.Delivery.Max, "max-ms")
	b.ReportMetric(f.PullsPerMsg, "pulls/msg")
}
