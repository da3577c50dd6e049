// Package e2e tests pigeonhole from outside, over real processes: the
// rpc-server and http-server binaries, started by package harness on the
// embedded store and on MariaDB, driven over HTTP and over Thrift exactly
// as clients of the original assignment drive them.
package e2e

import (
	"flag"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// defaultParallel is how many tests run at once unless -parallel says
// otherwise. They mostly wait, on processes starting and shutting down
// gracefully (a second or so each), not on the CPU, so more of them than
// go test's default of GOMAXPROCS fit.
const defaultParallel = "4"

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", defaultParallel)
	}
	mysqltest.Main(m)
}

// store is a storage backend the system can run on.
type store struct {
	name string
	// options returns the rpc-server options of a fresh, empty store.
	options func(t *testing.T) harness.RPCOptions
}

// stores are the backends every end-to-end behaviour is checked on.
var stores = []store{
	{name: "Embedded", options: func(t *testing.T) harness.RPCOptions {
		return harness.RPCOptions{DataDir: t.TempDir()}
	}},
	{name: "MySQL", options: func(t *testing.T) harness.RPCOptions {
		return harness.RPCOptions{MySQL: mysqltest.NewDSN(t)}
	}},
}

// system is one rpc-server and one gateway in front of it.
type system struct {
	rpc *harness.RPCServer
	gw  *harness.Gateway
	api *api
}

// startSystem starts an rpc-server with opts and a gateway in front of it,
// both stopped (gateway first) when t ends.
func startSystem(t *testing.T, opts harness.RPCOptions) *system {
	t.Helper()
	rpc := harness.StartRPCServer(t, opts)
	gw := harness.StartGateway(t, harness.GatewayOptions{Services: []string{rpc.Addr}})
	return &system{rpc: rpc, gw: gw, api: newAPI(t, gw.URL)}
}

// forEachStore runs test in a parallel subtest per store, each on a system
// of its own over a fresh store.
func forEachStore(t *testing.T, test func(t *testing.T, sys *system)) {
	t.Helper()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			test(t, startSystem(t, s.options(t)))
		})
	}
}
