package gateway

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Fixed bodies of the probes. /ping's is what the original assignment's
// clients check byte for byte.
var (
	pongBody  = []byte(`{"message":"pong"}`)
	okBody    = []byte(`{"status":"ok"}`)
	readyBody = []byte(`{"status":"ready"}`)
)

// ping answers GET /ping: 200 {"message":"pong"}.
func (g *gateway) ping(_ context.Context, ctx *app.RequestContext) {
	writeFixedJSON(ctx, pongBody)
}

// healthz answers GET /healthz: the process is up; it does not look at the
// service.
func (g *gateway) healthz(_ context.Context, ctx *app.RequestContext) {
	writeFixedJSON(ctx, okBody)
}

// readyz answers GET /readyz: 200 when the service reaches its storage.
// Any failure is 503 unavailable, whatever its code, because a readiness
// probe only asks whether to route traffic here.
func (g *gateway) readyz(c context.Context, ctx *app.RequestContext) {
	sc, cancel := g.serviceContext(c)
	defer cancel()
	if err := g.svc.Ready(sc); err != nil {
		g.fail(c, ctx, &pigeonhole.Error{
			Code:    pigeonhole.CodeUnavailable,
			Message: "the service is not ready: " + pigeonhole.ErrorMessage(err),
			Cause:   err,
		})
		return
	}
	writeFixedJSON(ctx, readyBody)
}

// send answers POST /api/send: 200 {"send_time":…,"chat":"…"}.
func (g *gateway) send(c context.Context, ctx *app.RequestContext) {
	c, ok := g.authenticate(c, ctx)
	if !ok || !g.limit(c, ctx, g.sends) {
		return
	}
	req, err := bindSend(ctx, g.cfg.MaxBodyBytes)
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	sc, cancel := g.serviceContext(c)
	defer cancel()
	m, err := g.svc.Send(sc, req)
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	writeSendResponse(ctx, m)
}

// pull answers GET and POST /api/pull: 200
// {"messages":[…],"has_more":…,"next_cursor":…}. Final pages are kept by
// the page cache, when there is one, and answered from it after that, to
// the same caller only: whether a caller may read a chat is the service's
// to say.
func (g *gateway) pull(c context.Context, ctx *app.RequestContext) {
	c, ok := g.authenticate(c, ctx)
	if !ok || !g.limit(c, ctx, g.pulls) {
		return
	}
	req, err := bindPull(ctx, g.cfg.MaxBodyBytes)
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	var keyBuf [pageKeyBytes + 3*pigeonhole.MaxMemberIDBytes + 2]byte
	var key []byte
	if g.cfg.Pages != nil {
		contentType, _ := protobufAccepted(ctx)
		caller, _ := pigeonhole.CallerFrom(c)
		key = appendPageKey(keyBuf[:0], req, caller, contentType)
		if body, ok := g.cfg.Pages.Get(key); ok {
			writeCachedPull(ctx, contentType, body)
			return
		}
	}
	sc, cancel := g.serviceContext(c)
	defer cancel()
	page, err := g.svc.Pull(sc, req)
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	release, err := g.answers.acquire(sc, answerBytes(page))
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	defer release()
	writePullResponse(ctx, page)
	if page.Final && key != nil && ctx.Response.StatusCode() == consts.StatusOK {
		g.cfg.Pages.Put(key, ctx.Response.Body())
	}
}

// writeFixedJSON answers 200 with a constant JSON body.
func writeFixedJSON(ctx *app.RequestContext, body []byte) {
	ctx.SetStatusCode(consts.StatusOK)
	ctx.Response.Header.SetContentType(contentTypeJSON)
	ctx.Response.SetBodyRaw(body)
}
