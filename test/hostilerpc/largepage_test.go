package hostilerpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// TestLargePages is the large-page attack: a chat of 100 messages of
// 64,000 bytes, then 48 clients pulling its newest 100 at once, over and
// over. Each such page is 6.4 MB of text unbounded: before pages had a
// byte budget, 4 s of it took the gateway to a peak RSS of 259 MiB and
// the rpc-server to 479 MiB, and 40 of 90 pulls timed out (504); run for
// 10 s, the gateway reached 1.7 GiB. Now each page stops at 1 MiB of
// text, so every pull answers quickly with 16 messages and a cursor to
// the rest (389 pulls, all 200; 200 and 125 MiB).
func TestLargePages(t *testing.T) {
	const (
		messages = 100
		size     = 64_000
		clients  = 48
		attack   = 4 * time.Second
	)
	rpc := harness.StartRPCServer(t, harness.RPCOptions{})
	gw := harness.StartGateway(t, harness.GatewayOptions{Services: []string{rpc.Addr}})
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	t.Cleanup(client.CloseIdleConnections)

	text := strings.Repeat("x", size)
	for i := range messages {
		body, _ := json.Marshal(map[string]string{"chat": "big:peer", "sender": "big", "text": text, "client_msg_id": fmt.Sprint("m", i)})
		resp, err := client.Post(gw.URL+"/api/send", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("send %d: status %d", i, resp.StatusCode)
		}
	}

	stopPing := watchPing(t, client, gw.URL)
	var pulls, largest atomic.Int64
	var statusMu sync.Mutex
	statuses := map[int]int{}
	deadline := time.Now().Add(attack)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				resp, err := client.Get(gw.URL + "/api/pull?chat=big:peer&limit=100&reverse=true")
				if err != nil {
					t.Errorf("pull: %v", err)
					return
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				pulls.Add(1)
				for old := largest.Load(); n > old && !largest.CompareAndSwap(old, n); old = largest.Load() {
				}
				statusMu.Lock()
				statuses[resp.StatusCode]++
				statusMu.Unlock()
			}
		})
	}
	wg.Wait()
	slowest := stopPing()
	t.Logf("%d pulls, statuses %v, largest answer %d bytes, slowest /ping %v", pulls.Load(), statuses, largest.Load(), slowest)
	if statuses[http.StatusOK] != int(pulls.Load()) {
		t.Errorf("pulls answered %v, want every one 200", statuses)
	}
	if largest.Load() > 2<<20 {
		t.Errorf("largest answer %d bytes, want a page of at most 1 MiB of text", largest.Load())
	}
	checkPeak(t, "http-server", gw.PID())
	checkPeak(t, "rpc-server", rpc.PID())
}

// pingBound is how soon /ping must answer during an attack: within a
// second. Under -race the servers still run plain (see TestMain), but this
// client is instrumented and shares a small machine with the other test
// packages make test runs at once, so it is given 5 s.
func pingBound() time.Duration {
	if harness.RaceEnabled {
		return 5 * time.Second
	}
	return time.Second
}

// watchPing asks the gateway's /ping every 100 ms until the returned stop
// is called, failing the test when an answer takes pingBound or more;
// stop returns the slowest answer's time.
func watchPing(t *testing.T, client *http.Client, base string) (stop func() time.Duration) {
	t.Helper()
	done := make(chan struct{})
	result := make(chan time.Duration, 1)
	go func() {
		var slowest time.Duration
		defer func() { result <- slowest }()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			start := time.Now()
			resp, err := client.Get(base + "/ping")
			took := time.Since(start)
			slowest = max(slowest, took)
			if err != nil {
				t.Errorf("/ping: %v", err)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || took >= pingBound() {
				t.Errorf("/ping: status %d after %v, want 200 within %v", resp.StatusCode, took, pingBound())
			}
		}
	}()
	return func() time.Duration {
		close(done)
		return <-result
	}
}
