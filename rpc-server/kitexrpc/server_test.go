package kitexrpc_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/transport"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc/imservice"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitexrpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// TestServerBoundsRequests sends requests just under and over the
// server's MaxRequestBytes in each transport: under is served, over is
// refused (the connection closed) without an answer.
func TestServerBoundsRequests(t *testing.T) {
	const limit = 1 << 20
	h := newHandlerWith(t, pigeonhole.Config{MaxTextBytes: 4 << 20})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- kitexrpc.Serve(ctx, h, kitexrpc.ServerConfig{Addr: addr, ExitWait: time.Second, MaxRequestBytes: limit})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})

	for _, tc := range []struct {
		name     string
		protocol transport.Protocol
	}{
		{"Buffered", transport.PurePayload},
		{"Framed", transport.Framed},
		{"TTHeader", transport.TTHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli, err := imservice.NewClient("test", client.WithHostPorts(addr), client.WithTransportProtocol(tc.protocol),
				client.WithRPCTimeout(5*time.Second), client.WithConnectTimeout(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			send := func(size int) (*rpc.SendResponse, error) {
				for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
					resp, err := cli.Send(t.Context(), &rpc.SendRequest{Message: &rpc.Message{Chat: "a:b", Sender: "a", Text: strings.Repeat("t", size)}})
					if err == nil || !strings.Contains(err.Error(), "connection refused") || time.Now().After(deadline) {
						return resp, err
					}
				}
			}
			if resp, err := send(limit - 4<<10); err != nil || resp.Code != 0 {
				t.Fatalf("a request under the limit: %+v, %v", resp, err)
			}
			if resp, err := send(limit + 1); err == nil {
				t.Fatalf("a request over the limit was answered: code %d %q", resp.Code, resp.Msg)
			}
		})
	}
}
