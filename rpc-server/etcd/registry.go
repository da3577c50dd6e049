// Package etcd registers a message-service replica in etcd, through
// kitex-contrib/registry-etcd, so that gateways discover every live replica.
// A replica's key lives on a lease: when the process dies without
// deregistering (kill -9), the key expires after the lease TTL.
package etcd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cloudwego/kitex/pkg/registry"
	"github.com/cloudwego/kitex/server"
	etcdregistry "github.com/kitex-contrib/registry-etcd"
	"github.com/kitex-contrib/registry-etcd/retry"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
)

// Config says where and how to register.
type Config struct {
	// Endpoints are the etcd servers (host:port).
	Endpoints []string
	// User and Password authenticate to an etcd with authentication on
	// (empty User: none). The user needs to write only under the
	// registry's key prefix (RegistryPrefix).
	User, Password string
	// ServiceName is the name gateways resolve.
	ServiceName string
	// Advertise is the address registered for this replica.
	Advertise net.Addr
	// LeaseTTL is how long the registration outlives a replica that dies
	// without deregistering (at least a second).
	LeaseTTL time.Duration
	// Drain is how long a deregistered replica keeps serving before it
	// stops accepting: long enough for every gateway's resolver to notice
	// (Kitex refreshes every 5 s), so no request is sent to a closed port.
	Drain time.Duration
	// Logger receives registration events.
	Logger *slog.Logger
}

// Registration returns the Kitex server options that register the replica
// when it starts serving and, on shutdown, deregister it and wait Drain
// before the server stops accepting requests.
func Registration(cfg Config) ([]server.Option, error) {
	r, err := newRegistry(cfg)
	if err != nil {
		return nil, err
	}
	return []server.Option{
		server.WithRegistry(&drainingRegistry{Registry: r, drain: cfg.Drain, log: cfg.Logger}),
		// The advertised address is part of the registry info, so register
		// and deregister agree on the key.
		server.WithRegistryInfo(&registry.Info{ServiceName: cfg.ServiceName, Addr: cfg.Advertise, Weight: 10}),
	}, nil
}

// newRegistry returns registry-etcd's registry for cfg.
func newRegistry(cfg Config) (registry.Registry, error) {
	// Re-register forever (the library's default gives up after 5 failed
	// checks, which an etcd outage of a minute would exhaust), checking
	// every 5 s that the key is still there.
	keep := &retry.Config{MaxAttemptTimes: 0, ObserveDelay: 5 * time.Second, RetryDelay: time.Second}
	opts := []etcdregistry.Option{etcdregistry.WithDialTimeoutOpt(3 * time.Second), withLeaseTTL(cfg.LeaseTTL)}
	if cfg.User != "" {
		opts = append(opts, etcdregistry.WithAuthOpt(cfg.User, cfg.Password))
	}
	r, err := etcdregistry.NewEtcdRegistryWithRetry(cfg.Endpoints, keep, opts...)
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	return r, nil
}

// withLeaseTTL makes the registry's leases last ttl (whole seconds, at
// least one). registry-etcd v0.3.0 takes its lease TTL from nothing but a
// process environment variable (KITEX_ETCD_REGISTRY_LEASE_TTL, else 60 s),
// and only main may touch the environment; its etcd client does take gRPC
// dial options, so an interceptor sets the TTL of the lease grants the
// client sends. The registry's client grants no other leases.
func withLeaseTTL(ttl time.Duration) etcdregistry.Option {
	seconds := max(1, int64(ttl/time.Second))
	grant := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if r, ok := req.(*etcdserverpb.LeaseGrantRequest); ok {
			r.TTL = seconds
		}
		return invoke(ctx, method, req, reply, cc, opts...)
	}
	return func(cfg *etcdregistry.Config) {
		cfg.EtcdConfig.DialOptions = append(cfg.EtcdConfig.DialOptions, grpc.WithChainUnaryInterceptor(grant))
	}
}

// drainingRegistry delays the return of Deregister: Kitex stops the
// listener right after it, and gateways should have stopped routing here
// by then. It deregisters only what it registered: registry-etcd v0.3.0
// dereferences a nil pointer when asked to deregister an instance it never
// registered (a replica stopped before its registration, or whose
// registration failed), and a registration that would come after the
// deregistration is not made.
type drainingRegistry struct {
	registry.Registry
	drain time.Duration
	log   *slog.Logger

	mu         sync.Mutex
	registered bool // Register succeeded
	stopped    bool // Deregister was called
}

func (d *drainingRegistry) Register(info *registry.Info) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return nil
	}
	err := d.Registry.Register(info)
	d.registered = err == nil
	d.log.Info("registered in etcd", "service", info.ServiceName, "addr", info.Addr.String(), "error", err)
	return err
}

func (d *drainingRegistry) Deregister(info *registry.Info) error {
	d.mu.Lock()
	d.stopped = true
	registered := d.registered
	var err error
	if registered {
		err = d.Registry.Deregister(info)
	}
	d.mu.Unlock()
	if !registered {
		d.log.Info("stopping before registering in etcd: nothing to deregister", "addr", info.Addr.String())
		return nil
	}
	d.log.Info("deregistered from etcd; draining", "addr", info.Addr.String(), "drain", d.drain, "error", err)
	time.Sleep(d.drain)
	return err
}

// RegistryPrefix is the key prefix under which registry-etcd keeps
// registrations: what a replica's etcd user must be able to write and a
// gateway's to read.
const RegistryPrefix = "kitex/registry-etcd/"

// ReadPassword reads the password of an etcd user from a file (surrounding
// whitespace is not part of it); without a user there is none.
func ReadPassword(user, path string) (string, error) {
	switch {
	case user == "" && path == "":
		return "", nil
	case user == "" || path == "":
		return "", fmt.Errorf("--etcd-user and --etcd-password-file go together")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("etcd password: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// AdvertiseAddr returns the address to register: advertise if given,
// otherwise listen with an unspecified host replaced by the first
// non-loopback IPv4 address of the machine (right for containers and pods).
// An advertise address that is a host alone takes listen's port, so a
// replica on a free port can still name the host others reach it by.
func AdvertiseAddr(listen, advertise string) (net.Addr, error) {
	addr := advertise
	if addr == "" {
		addr = listen
	} else if ip := net.ParseIP(advertise); ip != nil || !strings.Contains(advertise, ":") {
		_, port, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("listen address %q: %w", listen, err)
		}
		addr = net.JoinHostPort(advertise, port)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("advertise address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if host, err = firstIPv4(); err != nil {
			return nil, err
		}
	}
	return net.ResolveTCPAddr("tcp", net.JoinHostPort(host, port))
}

func firstIPv4() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "", fmt.Errorf("no non-loopback IPv4 address to advertise; set --advertise-addr")
}
