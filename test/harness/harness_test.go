package harness_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

func TestRPCServerLifeCycle(t *testing.T) {
	rpc := harness.StartRPCServer(t, harness.RPCOptions{})
	addr, pid := rpc.Addr, rpc.PID()

	t.Run("ServesOnAFreeLoopbackPort", func(t *testing.T) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("Addr = %q (%v), want 127.0.0.1:port", addr, err)
		}
		dialOK(t, addr)
	})
	t.Run("StopExitsCleanlyAndClosesThePort", func(t *testing.T) {
		rpc.Stop()
		if rpc.Process().Running() {
			t.Fatal("still running after Stop")
		}
		dialRefused(t, addr)
	})
	t.Run("StartComesBackOnTheSameAddress", func(t *testing.T) {
		rpc.Start()
		if got := rpc.Addr; got != addr {
			t.Fatalf("Addr after Start = %q, want %q", got, addr)
		}
		if rpc.PID() == pid {
			t.Fatalf("PID after Start = %d, the old process's", pid)
		}
		dialOK(t, addr)
	})
	t.Run("KillEndsTheProcessAndStartRecovers", func(t *testing.T) {
		rpc.Kill()
		if rpc.Process().ExitError() == nil {
			t.Fatal("a killed process reports a clean exit")
		}
		rpc.Start()
		dialOK(t, addr)
	})
}

func TestGatewayLifeCycle(t *testing.T) {
	rpc := harness.StartRPCServer(t, harness.RPCOptions{})
	gw := harness.StartGateway(t, harness.GatewayOptions{Services: []string{rpc.Addr}})

	t.Run("IsReadyWhenStarted", func(t *testing.T) {
		if got, want := getStatus(t, gw.URL+"/readyz"), http.StatusOK; got != want {
			t.Fatalf("GET /readyz: got %d, want %d", got, want)
		}
	})
	t.Run("RestartKeepsTheURL", func(t *testing.T) {
		url := gw.URL
		gw.Restart()
		if gw.URL != url {
			t.Fatalf("URL after Restart = %q, want %q", gw.URL, url)
		}
		if got, want := getStatus(t, gw.URL+"/ping"), http.StatusOK; got != want {
			t.Fatalf("GET /ping: got %d, want %d", got, want)
		}
	})
}

func dialOK(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	conn.Close()
}

func dialRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("dial %s succeeded; want the port closed", addr)
	}
}

// getStatus GETs url without keep-alive, so that no idle connection holds
// up the gateway's graceful shutdown.
func getStatus(t *testing.T, url string) int {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
