package etcd_test

import (
	"net"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/etcd"
)

func TestAdvertiseAddr(t *testing.T) {
	for _, tc := range []struct{ listen, advertise, want string }{
		{"127.0.0.1:8888", "", "127.0.0.1:8888"},
		{":8888", "10.1.2.3:9999", "10.1.2.3:9999"},
		// A host alone takes the port the replica listens on.
		{"[::]:41234", "127.0.0.1", "127.0.0.1:41234"},
		{"[::]:41234", "::1", "[::1]:41234"},
	} {
		got, err := etcd.AdvertiseAddr(tc.listen, tc.advertise)
		if err != nil || got.String() != tc.want {
			t.Fatalf("AdvertiseAddr(%q, %q) = %v, %v; want %s", tc.listen, tc.advertise, got, err, tc.want)
		}
	}
	// An unspecified host becomes a real address of this machine.
	for _, listen := range []string{":8888", "0.0.0.0:8888"} {
		got, err := etcd.AdvertiseAddr(listen, "")
		if err != nil {
			t.Skipf("no non-loopback IPv4 address here: %v", err)
		}
		ip := got.(*net.TCPAddr).IP
		if ip.IsUnspecified() || ip.IsLoopback() || got.(*net.TCPAddr).Port != 8888 {
			t.Fatalf("AdvertiseAddr(%q) = %v", listen, got)
		}
	}
	if _, err := etcd.AdvertiseAddr("no-port", ""); err == nil {
		t.Fatal("an address without a port was accepted")
	}
}
