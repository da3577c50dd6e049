package kitexrpc

import (
	"context"

	"github.com/bytedance/gopkg/cloud/metainfo"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
)

// requestIDKey is the metainfo key under which a caller's request id
// travels in the TTHeader of an RPC; the contract owns it.
const requestIDKey = rpc.RequestIDKey

// WithRequestID returns a client context that carries id to the service,
// which logs it with any failure of the request. It needs the TTHeader
// transport on the client (the gateway uses it); over plain Framed
// transport the id is simply not sent.
func WithRequestID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return metainfo.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request id the caller sent, or "".
func RequestID(ctx context.Context) string {
	id, _ := metainfo.GetValue(ctx, requestIDKey)
	return id
}
