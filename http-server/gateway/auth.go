package gateway

import (
	"bytes"
	"context"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Authenticator verifies a bearer token and returns the member id it names.
// Any error refuses the token (401 unauthenticated); its text is told to
// the client, so it must say nothing the client may not know.
type Authenticator interface {
	Authenticate(token string) (string, error)
}

// The WWW-Authenticate challenges of RFC 6750: without a token, and with
// one that was refused.
const (
	challengeBearer       = `Bearer`
	challengeInvalidToken = `Bearer error="invalid_token"`
)

type credentialKey struct{}

// Credential returns the bearer token the caller of ctx presented, or "":
// an RPC client forwards it so that the service verifies the caller
// itself.
func Credential(ctx context.Context) string {
	token, _ := ctx.Value(credentialKey{}).(string)
	return token
}

var (
	errNoToken = pigeonhole.Errorf(pigeonhole.CodeUnauthenticated, "a bearer token is required: Authorization: Bearer <token>")
	errScheme  = pigeonhole.Errorf(pigeonhole.CodeUnauthenticated, "the Authorization header must be: Bearer <token>")
)

// authenticate checks the request's bearer token, when the gateway has an
// Authenticator, and returns c with the caller and the token; otherwise it
// returns c unchanged. A refused request has been answered (401 with its
// challenge) and ok is false.
func (g *gateway) authenticate(c context.Context, ctx *app.RequestContext) (_ context.Context, ok bool) {
	if g.cfg.Auth == nil {
		return c, true
	}
	header := ctx.Request.Header.Peek("Authorization")
	if len(header) == 0 {
		ctx.Response.Header.Set("WWW-Authenticate", challengeBearer)
		g.fail(c, ctx, errNoToken)
		return c, false
	}
	const scheme = "bearer "
	if len(header) <= len(scheme) || !bytes.EqualFold(header[:len(scheme)], []byte(scheme)) {
		g.fail(c, ctx, errScheme)
		return c, false
	}
	token := string(bytes.TrimSpace(header[len(scheme):]))
	member, err := g.cfg.Auth.Authenticate(token)
	if err != nil {
		g.fail(c, ctx, pigeonhole.Wrap(pigeonhole.CodeUnauthenticated, err, err.Error()))
		return c, false
	}
	c = pigeonhole.WithCaller(c, pigeonhole.Caller{Member: member})
	return context.WithValue(c, credentialKey{}, token), true
}
