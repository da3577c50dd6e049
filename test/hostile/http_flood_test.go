package hostile

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHTTPHeaderFlood opens 200 connections that each send 900 KB of a
// header that never ends. The gateway must drop each one promptly (its
// header limit is far below 900 KB), stay within its memory bound, and
// keep answering /ping within a second meanwhile (see attackBounds). It
// runs alone (not in parallel), as the figures are about this attack only.
func TestHTTPHeaderFlood(t *testing.T) {
	sys := startHTTPSystem(t)
	const (
		conns       = 200
		headerBytes = 900_000
	)
	dropWithin := attackBounds().drop
	ctx, stop := context.WithCancel(context.Background())
	pings := make(chan time.Duration, 1)
	go func() { pings <- pingWhile(ctx, t, sys) }()

	flood := "GET /ping HTTP/1.1\r\nHost: x\r\nX-Flood: " + strings.Repeat("a", headerBytes)
	var wg sync.WaitGroup
	dropped := make(chan time.Duration, conns)
	for range conns {
		wg.Go(func() {
			start := time.Now()
			conn, err := net.Dial("tcp", sys.gw.Addr)
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(dropWithin)) //nolint:errcheck
			// The gateway closes the connection long before the 900 KB are
			// written, so the write fails; what matters is the close.
			go io.WriteString(conn, flood) //nolint:errcheck
			_, err = io.Copy(io.Discard, conn)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("connection still open after %v", dropWithin)
				return
			}
			dropped <- time.Since(start)
		})
	}
	wg.Wait()
	stop()
	close(dropped)
	var slowest time.Duration
	for d := range dropped {
		slowest = max(slowest, d)
	}
	worstPing := <-pings
	t.Logf("%d connections with a %d-byte header: the slowest dropped after %v; slowest /ping %v",
		conns, headerBytes, slowest, worstPing)
	if worstPing > attackBounds().ping {
		t.Errorf("/ping took %v during the flood, more than %v", worstPing, attackBounds().ping)
	}
	checkPeakRSS(t, "gateway", sys.gw.PID())
}

// pingWhile calls /ping every 50 ms on a connection of its own until ctx
// ends and returns the slowest answer; a call that fails fails the test.
func pingWhile(ctx context.Context, t *testing.T, sys *httpSystem) time.Duration {
	client := &http.Client{Timeout: 2 * attackBounds().ping}
	defer client.CloseIdleConnections()
	var worst time.Duration
	for ctx.Err() == nil {
		start := time.Now()
		resp, err := client.Get(sys.gw.URL + "/ping")
		if err != nil {
			t.Errorf("/ping during the flood: %v", err)
			return client.Timeout
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck
		resp.Body.Close()
		worst = max(worst, time.Since(start))
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return worst
}
