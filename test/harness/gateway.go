package harness

import (
	"context"
	"strings"
	"testing"
)

// GatewayOptions configures an http-server.
type GatewayOptions struct {
	// Services are the message-service replicas (host:port) it calls.
	// Empty passes no --service, for a gateway that discovers replicas
	// (say --etcd in ExtraArgs).
	Services []string
	// Addr is the address to serve HTTP on; empty means a free 127.0.0.1
	// port.
	Addr string
	// ReadyPath is the path polled until it answers 200 (default
	// "/readyz", which needs a reachable message service; "/healthz" does
	// not).
	ReadyPath string
	// ExtraArgs are appended to the command line (e.g. --rpc-timeout).
	ExtraArgs []string
	// Env is added to the gateway's environment (PIGEONHOLE_* variables of
	// the test's own environment are never passed on).
	Env []string
}

// Gateway is a running http-server process.
type Gateway struct {
	server
	// Addr is the 127.0.0.1 host:port it serves HTTP on; it stays the same
	// across restarts.
	Addr string
	// URL is "http://" + Addr, without a trailing slash.
	URL string
	// MetricsURL is its GET /metrics, on a listener apart from the API.
	MetricsURL  string
	metricsAddr string
}

// StartGateway builds the binaries if needed, starts an http-server in
// front of opts.Services and waits until ReadyPath answers 200. The gateway
// is stopped with SIGTERM in tb's Cleanup, which fails the test unless it
// exits with code 0; started after its services, it is stopped before them.
func StartGateway(tb testing.TB, opts GatewayOptions) *Gateway {
	tb.Helper()
	readyPath := opts.ReadyPath
	if readyPath == "" {
		readyPath = "/readyz"
	}
	bins := MustBuild(tb)
	g := &Gateway{}
	// /metrics has a listener of its own, on a free port too.
	metricsAddr, err := FreeAddr()
	if err != nil {
		tb.Fatal(err)
	}
	g.metricsAddr, g.MetricsURL = metricsAddr, "http://"+metricsAddr+"/metrics"
	g.init(tb, "http-server", bins.HTTPServer, opts.Addr, opts.Env)
	g.args = func(addr string) []string {
		// Tests drive many members from one address without tokens, which
		// the per-caller rate limits would count as one caller: they are
		// off unless ExtraArgs turn them on (the last flag wins).
		args := []string{"--http-addr", addr, "--metrics-addr", g.metricsAddr, "--send-rate=0", "--pull-rate=0"}
		if len(opts.Services) > 0 {
			args = append(args, "--service", strings.Join(opts.Services, ","))
		}
		return append(args, opts.ExtraArgs...)
	}
	g.ready = func(ctx context.Context, p *Process, addr string) error {
		return WaitHTTP(ctx, p, "http://"+addr+readyPath)
	}
	if err := g.start(); err != nil {
		tb.Fatal(err)
	}
	g.Addr = g.addr
	g.URL = "http://" + g.addr
	return g
}
