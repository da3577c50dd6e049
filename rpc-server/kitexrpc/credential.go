package kitexrpc

import (
	"context"

	"github.com/bytedance/gopkg/cloud/metainfo"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// credentialKey is the metainfo key under which a caller's bearer token
// travels in the TTHeader of an RPC; the contract owns it.
const credentialKey = rpc.CredentialKey

// WithCredential returns a client context that carries the caller's bearer
// token to the service, which verifies it itself. Like the request id, it
// needs the TTHeader transport on the client.
func WithCredential(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	return metainfo.WithValue(ctx, credentialKey, token)
}

// Credential returns the bearer token the caller sent, or "".
func Credential(ctx context.Context) string {
	token, _ := metainfo.GetValue(ctx, credentialKey)
	return token
}

// Authenticator verifies a bearer token and returns the member id it names.
// Any error refuses the token; its text is told to the caller, so it must
// say nothing that the caller may not know.
type Authenticator interface {
	Authenticate(token string) (string, error)
}

var errNoCredential = pigeonhole.Errorf(pigeonhole.CodeUnauthenticated, "a credential is required")

// authenticate returns ctx with the caller token names, when the handler
// checks credentials; without an Authenticator, ctx is returned as is and
// the service serves the request without a caller. Errors:
// unauthenticated.
func (h *Handler) authenticate(ctx context.Context, token string) (context.Context, error) {
	if h.auth == nil {
		return ctx, nil
	}
	if token == "" {
		return ctx, errNoCredential
	}
	member, err := h.auth.Authenticate(token)
	if err != nil {
		return ctx, pigeonhole.Wrap(pigeonhole.CodeUnauthenticated, err, err.Error())
	}
	return pigeonhole.WithCaller(ctx, pigeonhole.Caller{Member: member}), nil
}
