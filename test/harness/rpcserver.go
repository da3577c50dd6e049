package harness

import (
	"context"
	"testing"
)

// RPCOptions configures an rpc-server.
type RPCOptions struct {
	// DataDir is the embedded store's directory; empty means a new
	// temporary one (ignored when MySQL is set).
	DataDir string
	// MySQL is a go-sql-driver DSN; set, the server uses MySQL instead of
	// the embedded store.
	MySQL string
	// Addr is the address to serve on; empty means a free 127.0.0.1 port.
	Addr string
	// ExtraArgs are appended to the command line (e.g. --max-text-bytes).
	// They come last, so they override the harness's own flags, such as
	// --metrics-addr, which is off by default (one fixed port would keep
	// two servers from running side by side).
	ExtraArgs []string
	// Env is added to the server's environment (PIGEONHOLE_* variables of
	// the test's own environment are never passed on).
	Env []string
}

// RPCServer is a running rpc-server process: the message service.
type RPCServer struct {
	server
	// Addr is the 127.0.0.1 host:port it serves Kitex RPC on; it stays the
	// same across restarts.
	Addr string
	// DataDir is the embedded store's directory ("" with MySQL).
	DataDir string
	// MySQL is the DSN of its MySQL store ("" with the embedded store).
	MySQL string
}

// StartRPCServer builds the binaries if needed, starts an rpc-server and
// waits until its RPC port accepts connections. The server is stopped with
// SIGTERM in tb's Cleanup, which fails the test unless it exits with code 0.
func StartRPCServer(tb testing.TB, opts RPCOptions) *RPCServer {
	tb.Helper()
	bins := MustBuild(tb)
	s := &RPCServer{MySQL: opts.MySQL}
	if opts.MySQL == "" {
		s.DataDir = opts.DataDir
		if s.DataDir == "" {
			s.DataDir = tb.TempDir()
		}
	}
	s.init(tb, "rpc-server", bins.RPCServer, opts.Addr, opts.Env)
	s.args = func(addr string) []string {
		args := []string{"--rpc-addr", addr, "--metrics-addr="}
		if s.MySQL != "" {
			args = append(args, "--mysql", s.MySQL)
		} else {
			args = append(args, "--data-dir", s.DataDir)
		}
		return append(args, opts.ExtraArgs...)
	}
	s.ready = func(ctx context.Context, p *Process, addr string) error {
		return WaitTCP(ctx, p, addr)
	}
	if err := s.start(); err != nil {
		tb.Fatal(err)
	}
	s.Addr = s.addr
	return s
}

// MustBuild is Build for tests: it fails tb if the build fails.
func MustBuild(tb testing.TB) Binaries {
	tb.Helper()
	bins, err := Build(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return bins
}
