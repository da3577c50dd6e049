package program

import (
	"log/slog"
	"net"
	"net/netip"
)

// LocalUnlessGiven binds a default listen address without a host (":8888")
// to the loopback interface, unless the address was given explicitly. A
// server without authentication uses it, so that out of the box it is
// reachable from this host only.
func LocalUnlessGiven(addr string, given bool) string {
	if given {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "" {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// WarnIfOpen logs a warning when a listener that serves without
// authentication is reachable from other hosts: an address that is not a
// loopback one (":8080" is every interface).
func WarnIfOpen(log *slog.Logger, what, addr string) {
	if host, _, err := net.SplitHostPort(addr); err == nil && host == "localhost" {
		return
	}
	if ap, err := netip.ParseAddrPort(addr); err == nil && ap.Addr().Unmap().IsLoopback() {
		return
	}
	log.Warn("authentication is off and this listener is reachable from other hosts: anyone who reaches it can read every chat and send as anyone; use --auth jwt or a loopback address",
		"listener", what, "addr", addr)
}
