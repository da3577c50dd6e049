package kitexrpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/remote"
	"github.com/cloudwego/kitex/pkg/remote/codec"
	"github.com/cloudwego/kitex/pkg/remote/trans/detection"
	"github.com/cloudwego/kitex/pkg/remote/trans/netpoll"
	"github.com/cloudwego/kitex/pkg/remote/trans/netpollmux"
	np "github.com/cloudwego/netpoll"
)

// transports is how the server reads its connections, chosen per
// connection from its first frame:
//
//   - TTHeader frames flagged "out of order" (what a Kitex multiplexing
//     client sends: gateways send their long polls so): Kitex's
//     multiplexed transport, which answers many calls on one connection
//     concurrently, in any order. A gateway carries its waiting calls over
//     a few such connections instead of a connection per waiting call.
//   - anything else, TTHeader (gateways' other calls), Framed or Buffered
//     Thrift (clients built from the original IDL): Kitex's default
//     transport, one call at a time per connection.
//
// Kitex's own default also accepts gRPC (HTTP/2) and TTHeader streaming
// connections, which this service does not use: its gRPC transport
// allocates a buffer of whatever length a message announces before it
// reads the message (Kitex v0.16.1's nphttp2 buffer.Next), outside the
// codec that bounds requests, so they are not offered. The multiplexed
// transport cuts a frame from the connection before the codec sees it;
// boundedMux refuses a frame longer than max there, from its length.
func transports(max int) remote.ServerTransHandlerFactory {
	return detection.NewSvrTransHandlerFactory(netpoll.NewSvrTransHandlerFactory(), boundedMuxFactory{max: max})
}

type boundedMuxFactory struct{ max int }

func (f boundedMuxFactory) NewTransHandler(opt *remote.ServerOption) (remote.ServerTransHandler, error) {
	inner, err := netpollmux.NewSvrTransHandlerFactory().NewTransHandler(opt)
	if err != nil {
		return nil, err
	}
	return &boundedMux{ServerTransHandler: inner, max: f.max}, nil
}

// boundedMux is Kitex's multiplexed server transport, offered to the
// connections of multiplexing TTHeader clients only (ProtocolMatch), with
// every frame bounded to max bytes.
type boundedMux struct {
	remote.ServerTransHandler
	max int
}

var (
	_ remote.InvokeHandleFuncSetter          = (*boundedMux)(nil)
	_ remote.GracefulShutdown                = (*boundedMux)(nil) // what detection asks of its transports
	_ detection.DetectableServerTransHandler = (*boundedMux)(nil)
)

// boundedConnKey is the context key of a connection's boundedConn.
type boundedConnKey struct{}

// ProtocolMatch takes a connection whose first frame is TTHeader with the
// flag a multiplexing client sets: answers may come out of order.
func (t *boundedMux) ProtocolMatch(ctx context.Context, conn net.Conn) error {
	c, ok := conn.(np.Connection)
	if !ok {
		return errors.New("not a netpoll connection")
	}
	head, err := c.Reader().Peek(2 * codec.Size32) // length, magic, flags
	if err != nil {
		return err
	}
	flags := codec.HeaderFlags(binary.BigEndian.Uint16(head[6:8]))
	if !codec.IsTTHeader(head) || flags&codec.HeaderFlagSupportOutOfOrder == 0 {
		return errors.New("not a multiplexing TTHeader client")
	}
	return nil
}

// OnActive hands the inner transport the connection behind a reader that
// refuses long frames, and keeps it for the connection's other events.
func (t *boundedMux) OnActive(ctx context.Context, conn net.Conn) (context.Context, error) {
	c, ok := conn.(np.Connection)
	if !ok {
		return ctx, errors.New("not a netpoll connection")
	}
	bc := &boundedConn{Connection: c, max: t.max}
	inner, err := t.ServerTransHandler.OnActive(ctx, bc)
	if err != nil {
		return inner, err
	}
	// The multiplexed transport starts its connection's context afresh,
	// which would lose what the detecting transport keeps in ctx (which
	// transport serves the connection): the two are merged.
	return context.WithValue(merged{Context: inner, outer: ctx}, boundedConnKey{}, bc), nil
}

// merged is a context that is Context, whose values fall back to outer's.
type merged struct {
	context.Context
	outer context.Context
}

func (m merged) Value(key any) any {
	if v := m.Context.Value(key); v != nil {
		return v
	}
	return m.outer.Value(key)
}

// bounded is the boundedConn OnActive made for conn.
func bounded(ctx context.Context, conn net.Conn) net.Conn {
	if bc, ok := ctx.Value(boundedConnKey{}).(*boundedConn); ok {
		return bc
	}
	return conn
}

func (t *boundedMux) OnRead(ctx context.Context, conn net.Conn) error {
	return t.ServerTransHandler.OnRead(ctx, bounded(ctx, conn))
}

func (t *boundedMux) OnInactive(ctx context.Context, conn net.Conn) {
	t.ServerTransHandler.OnInactive(ctx, bounded(ctx, conn))
}

func (t *boundedMux) OnError(ctx context.Context, err error, conn net.Conn) {
	t.ServerTransHandler.OnError(ctx, err, bounded(ctx, conn))
}

func (t *boundedMux) SetInvokeHandleFunc(f endpoint.Endpoint) {
	if s, ok := t.ServerTransHandler.(remote.InvokeHandleFuncSetter); ok {
		s.SetInvokeHandleFunc(f)
	}
}

// GracefulShutdown does not send the multiplexed transport's "closing"
// control frame: Kitex v0.16.1's client cannot decode it (a nil pointer
// dereference, recovered and logged as a panic) and keeps using the
// connection anyway. By the time the server stops, the service has
// answered its waiting calls (the drain); the connections are closed
// with the server, and a client's call on one is retried elsewhere.
func (t *boundedMux) GracefulShutdown(ctx context.Context) error { return nil }

// boundedConn is a connection whose reader refuses to cut a frame longer
// than max.
type boundedConn struct {
	np.Connection
	max int
}

func (c *boundedConn) Reader() np.Reader {
	return boundedReader{Reader: c.Connection.Reader(), max: c.max}
}

type boundedReader struct {
	np.Reader
	max int
}

// Slice is where the multiplexed transport cuts a whole frame, of the
// length the frame announced, waiting for all of it to arrive.
func (r boundedReader) Slice(n int) (np.Reader, error) {
	if n > r.max {
		return nil, fmt.Errorf("%w: a frame of %d bytes, the limit is %d", errTooLarge, n, r.max)
	}
	return r.Reader.Slice(n)
}
