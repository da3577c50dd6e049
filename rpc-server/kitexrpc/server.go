package kitexrpc

import (
	"context"
	"net"
	"time"

	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/server"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc/imservice"
)

// ServerConfig configures the RPC server.
type ServerConfig struct {
	// Addr is the TCP address to listen on when Listener is nil.
	Addr string
	// Listener, when set, is served instead of listening on Addr: a caller
	// that binds first knows the port before the server runs, and a taken
	// port fails before anything else starts.
	Listener net.Listener
	// ExitWait is how long in-flight requests may take to finish once
	// the server stops (default 5s).
	ExitWait time.Duration
	// Options are extra Kitex server options (registry, metrics, ...).
	Options []server.Option
}

// Serve runs a Kitex server for h until ctx ends, then stops it
// gracefully: it deregisters from discovery (if a registry is configured),
// stops accepting, and lets in-flight requests finish within ExitWait.
func Serve(ctx context.Context, h *Handler, cfg ServerConfig) error {
	listen := server.WithListener(cfg.Listener)
	if cfg.Listener == nil {
		addr, err := net.ResolveTCPAddr("tcp", cfg.Addr)
		if err != nil {
			return err
		}
		listen = server.WithServiceAddr(addr)
	}
	if cfg.ExitWait <= 0 {
		cfg.ExitWait = 5 * time.Second
	}
	opts := append([]server.Option{
		listen,
		server.WithExitWaitTime(cfg.ExitWait),
		// TTHeader carries the request id; Framed clients (such as gateways
		// built from the original IDL) are served as well.
		server.WithMetaHandler(transmeta.ServerTTHeaderHandler),
		server.WithExitSignal(func() <-chan error {
			stop := make(chan error, 1)
			go func() {
				<-ctx.Done()
				stop <- nil
			}()
			return stop
		}),
	}, cfg.Options...)
	return imservice.NewServer(h, opts...).Run()
}

// ServiceName is the message service's name in discovery; gateways resolve
// it.
const ServiceName = "pigeonhole.message"
