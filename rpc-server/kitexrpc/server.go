package kitexrpc

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/remote"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/server"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc/imservice"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
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
	// the server stops (default program.DefaultExitWait).
	ExitWait time.Duration
	// MaxRequestBytes bounds the payload of one request: a frame that
	// announces more is refused and its connection closed before its
	// payload is read (default MaxRequestBytesFor(DefaultMaxTextBytes)).
	MaxRequestBytes int
	// Options are extra Kitex server options (registry, metrics, ...).
	Options []server.Option
}

// Transport bounds of the RPC port, besides MaxRequestBytes.
const (
	// ReadTimeout bounds how long the server waits for the rest of a
	// request it has begun to read (Kitex's own default, made explicit).
	ReadTimeout = 5 * time.Second
	// IdleTimeout closes a connection that carried no request for this
	// long; gateways drop their idle connections after a minute.
	IdleTimeout = 2 * time.Minute
)

// MaxRequestBytesFor is the largest request the service needs to read
// when texts are at most maxTextBytes: a Send of the largest text, or a
// SendBatch of rpc.MaxBatchBytes of text, each with 1 MiB to spare for ids and
// framing.
func MaxRequestBytesFor(maxTextBytes int) int {
	return max(rpc.MaxBatchBytes, maxTextBytes) + 1<<20
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
		cfg.ExitWait = program.DefaultExitWait
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = MaxRequestBytesFor(pigeonhole.DefaultMaxTextBytes)
	}
	addr := cfg.Addr
	if cfg.Listener != nil {
		addr = cfg.Listener.Addr().String()
	}
	up := &serving{up: make(chan struct{})}
	opts := append([]server.Option{
		listen,
		server.WithExitWaitTime(cfg.ExitWait),
		// Kitex reads a whole request before decoding it and sets no bound
		// by default: one frame announcing 1 GiB and streaming it was held
		// in memory. The codec refuses a request over the bound before
		// reading its payload (see boundedCodec).
		server.WithCodec(newBoundedCodec(cfg.MaxRequestBytes)),
		server.WithTransHandlerFactory(watchActive{ServerTransHandlerFactory: transports(cfg.MaxRequestBytes), up: up}),
		server.WithReadWriteTimeout(ReadTimeout),
		server.WithMaxConnIdleTime(IdleTimeout),
		// TTHeader carries the request id; Framed clients (such as gateways
		// built from the original IDL) are served as well.
		server.WithMetaHandler(transmeta.ServerTTHeaderHandler),
		server.WithMiddleware(callerDeadline),
		server.WithExitSignal(func() <-chan error {
			stop := make(chan error, 1)
			go func() {
				<-ctx.Done()
				awaitServing(up, addr)
				stop <- nil
			}()
			return stop
		}),
	}, cfg.Options...)
	return imservice.NewServer(h, opts...).Run()
}

// Kitex v0.16.1 starts its event loop in a goroutine of its own, which
// writes the server's listener without a lock; a stop that comes before
// that goroutine has run reads it meanwhile (a data race, seen when a
// SIGTERM followed a start within microseconds: the port accepts
// connections as soon as it is bound, before Kitex serves it). So a stop
// waits until the server is serving: until its event loop has taken a
// connection, its own if need be (at most serveWait).

// serving is closed once the server's event loop has taken a connection.
type serving struct {
	once sync.Once
	up   chan struct{}
}

// serveWait bounds how long a stop waits for the server to serve.
const serveWait = 2 * time.Second

// awaitServing returns once the server serves, dialling addr to make it
// take a connection, or after serveWait.
func awaitServing(s *serving, addr string) {
	select {
	case <-s.up:
		return
	default:
	}
	if conn, err := net.DialTimeout("tcp", addr, serveWait); err == nil {
		defer conn.Close()
	}
	select {
	case <-s.up:
	case <-time.After(serveWait):
	}
}

// watchActive is a transport factory whose handlers tell up when their
// first connection becomes active.
type watchActive struct {
	remote.ServerTransHandlerFactory
	up *serving
}

func (f watchActive) NewTransHandler(opt *remote.ServerOption) (remote.ServerTransHandler, error) {
	h, err := f.ServerTransHandlerFactory.NewTransHandler(opt)
	if err != nil {
		return nil, err
	}
	return &activeWatcher{ServerTransHandler: h, up: f.up}, nil
}

// activeWatcher is a transport handler that closes up.up at its first
// OnActive; the rest it passes on.
type activeWatcher struct {
	remote.ServerTransHandler
	up *serving
}

func (h *activeWatcher) OnActive(ctx context.Context, conn net.Conn) (context.Context, error) {
	h.up.once.Do(func() { close(h.up.up) })
	return h.ServerTransHandler.OnActive(ctx, conn)
}

func (h *activeWatcher) SetInvokeHandleFunc(f endpoint.Endpoint) {
	if s, ok := h.ServerTransHandler.(remote.InvokeHandleFuncSetter); ok {
		s.SetInvokeHandleFunc(f)
	}
}

func (h *activeWatcher) GracefulShutdown(ctx context.Context) error {
	if g, ok := h.ServerTransHandler.(remote.GracefulShutdown); ok {
		return g.GracefulShutdown(ctx)
	}
	return nil
}

// callerDeadline ends the handler's context when the caller stops waiting:
// a TTHeader client sends the time it waits (the gateway sends the time
// its callers have left), and no work should go on for a caller who has
// gone. Kitex's own WithEnableContextTimeout does the same but cancels
// the context only when the call fails, which leaves a timer per
// successful request alive until it fires.
func callerDeadline(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, req, resp any) error {
		timeout := rpcinfo.GetRPCInfo(ctx).Config().RPCTimeout()
		if timeout <= 0 {
			return next(ctx, req, resp)
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return next(ctx, req, resp)
	}
}
