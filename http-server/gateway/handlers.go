package gateway

import (
	"context"
	"time"

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
// the page cache, when there is one, and answered from it after that (a
// final page is never empty, so wait_ms does not matter to it), to the same
// caller only: whether a caller may read a chat is the service's to say.
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
	page, err := g.pullOrWait(c, req)
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	release, err := g.answers.acquire(c, answerBytes(page)) // bounded by AnswerWait
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

// pullOrWait calls the service for req. A forward pull with wait_ms waits
// in the service (wait_ms capped by MaxWait) while fewer than MaxWaiters
// pulls wait here; past that it is sent as a plain poll, never refused.
// Its deadline is its wait plus RequestTimeout. When the gateway shuts
// down, a waiting pull stops waiting and answers the empty page with its
// own cursor, which is always a right answer to a tail poll: the client
// polls again from where it was.
func (g *gateway) pullOrWait(c context.Context, req pigeonhole.PullRequest) (pigeonhole.Page, error) {
	sc, wait, done := g.waitContext(c, req.Wait, !req.Reverse)
	defer done()
	req.Wait = wait
	page, err := g.svc.Pull(sc, req)
	if err != nil && wait > 0 && g.stopping.Err() != nil {
		return pigeonhole.Page{Messages: []pigeonhole.Message{}, NextCursor: req.Cursor}, nil
	}
	return page, err
}

// waitContext admits a call asking to wait for wait (when it may wait at
// all) and returns the wait it gets, with the context to call the service
// in and what to run when the call is over. The wait is capped by MaxWait,
// and 0 when MaxWaiters calls wait already (the call is then a plain poll,
// never refused) or the gateway is stopping. A waiting call's context ends
// RequestTimeout after its wait, or when the gateway shuts down.
func (g *gateway) waitContext(c context.Context, wait time.Duration, mayWait bool) (context.Context, time.Duration, func()) {
	waiting := wait > 0 && mayWait && g.stopping.Err() == nil
	if waiting && g.waiting.Add(1) > int64(g.cfg.MaxWaiters) {
		g.waiting.Add(-1)
		waiting = false
	}
	if !waiting {
		if wait > 0 {
			wait = 0
		}
		sc, cancel := context.WithTimeout(c, g.cfg.RequestTimeout)
		return sc, wait, cancel
	}
	wait = min(wait, g.cfg.MaxWait)
	sc, cancel := context.WithTimeout(c, g.cfg.RequestTimeout+wait)
	stop := context.AfterFunc(g.stopping, cancel)
	return sc, wait, func() {
		stop()
		cancel()
		g.waiting.Add(-1)
	}
}
