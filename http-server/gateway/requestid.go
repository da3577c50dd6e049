package gateway

import (
	"context"
	"math/rand/v2"
)

// HeaderRequestID is the header that carries the request id both ways: a
// client (or a proxy in front) may set it, and every response has it.
const HeaderRequestID = "X-Request-Id"

// MaxRequestIDBytes is the longest request id taken from a client.
const MaxRequestIDBytes = 64

type requestIDKey struct{}

// WithRequestID returns a copy of ctx that carries the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "" when it has none.
// Every context the gateway passes to its MessageService carries one, so
// an RPC client can forward it to the service's logs.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestIDOrNew returns the client's request id when it is sane — 1 to
// MaxRequestIDBytes visible ASCII characters, nothing that could split a
// log line or a header — and a fresh one otherwise.
func requestIDOrNew(fromClient []byte) string {
	if len(fromClient) > 0 && len(fromClient) <= MaxRequestIDBytes {
		sane := true
		for _, b := range fromClient {
			if b <= ' ' || b > '~' {
				sane = false
				break
			}
		}
		if sane {
			return string(fromClient)
		}
	}
	return newRequestID()
}

// newRequestID returns 32 random hex digits. Ids need to be unique, not
// secret, so math/rand/v2's per-thread generator is enough and costs no
// system call or lock.
func newRequestID() string {
	const hexDigits = "0123456789abcdef"
	var buf [32]byte
	for half := 0; half < 2; half++ {
		v := rand.Uint64()
		for i := 0; i < 16; i++ {
			buf[half*16+i] = hexDigits[v&0xf]
			v >>= 4
		}
	}
	return string(buf[:])
}
