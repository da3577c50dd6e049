package gateway

import (
	"net"
	"net/netip"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/common/test/mock"
)

// peerConn is a connection from a given peer.
type peerConn struct {
	*mock.Conn
	peer net.Addr
}

func (c peerConn) RemoteAddr() net.Addr { return c.peer }

func TestClientAddr(t *testing.T) {
	g := &gateway{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	for _, tc := range []struct {
		name, peer, xff, want string
	}{
		{"DirectClient", "203.0.113.7:5000", "", "203.0.113.7"},
		{"UntrustedPeerCannotClaimAnAddress", "203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},
		{"TrustedProxyNamesTheClient", "10.0.0.2:5000", "198.51.100.1", "198.51.100.1"},
		{"OnlyTheRightEndIsBelieved", "10.0.0.2:5000", "1.2.3.4, 198.51.100.1, 10.0.0.9", "198.51.100.1"},
		{"GarbledHopStopsTheWalk", "10.0.0.2:5000", "198.51.100.1, bogus", "10.0.0.2"},
		{"TrustedProxyWithoutHeader", "10.0.0.2:5000", "", "10.0.0.2"},
		{"MappedIPv4", "[::ffff:203.0.113.7]:5000", "", "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			peer, err := net.ResolveTCPAddr("tcp", tc.peer)
			if err != nil {
				t.Fatal(err)
			}
			ctx := app.NewContext(0)
			ctx.SetConn(peerConn{Conn: mock.NewConn(""), peer: peer})
			if tc.xff != "" {
				ctx.Request.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := g.clientAddr(ctx); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
