package ops_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof" // registers on http.DefaultServeMux, as in the binary
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/ops"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := ops.NewMetrics()
	m.ObserveRPC("Send", "", time.Millisecond)
	m.ObserveRPC("Send", "conflict", time.Millisecond)
	m.ObserveCommit(12, time.Millisecond, nil)
	m.ObserveCacheLookup(true)
	m.ObserveCacheLookup(true)
	m.ObserveCacheLookup(false)
	var storageDown atomic.Bool
	ready := func(context.Context) error {
		if storageDown.Load() {
			return pigeonhole.Errorf(pigeonhole.CodeUnavailable, "the message store is unavailable")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ops.Serve(ctx, ln, m.Handler(), ready) }()
	base := "http://" + ln.Addr().String()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz: %d %s", code, body)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"ready"`) {
		t.Fatalf("readyz: %d %s", code, body)
	}
	storageDown.Store(true)
	code, body := get("/readyz")
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || code != 503 || e.Code != "unavailable" || e.Message == "" {
		t.Fatalf("readyz with storage down: %d %s", code, body)
	}
	// The binary links net/http/pprof (for --pprof-addr), which registers
	// on http.DefaultServeMux: this port must not serve it.
	if code, _ := get("/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("/debug/pprof/ on the metrics port: %d, want 404", code)
	}
	code, body = get("/metrics")
	for _, want := range []string{
		`pigeonhole_rpc_requests_total{code="ok",method="Send"} 1`,
		`pigeonhole_rpc_requests_total{code="conflict",method="Send"} 1`,
		`pigeonhole_store_commit_batch_size_sum 12`,
		`pigeonhole_range_cache_lookups_total{result="hit"} 2`,
		`pigeonhole_range_cache_lookups_total{result="miss"} 1`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
