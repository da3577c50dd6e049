// Package gateway is the HTTP face of the message service: a Hertz server
// that binds and checks wire-level input (JSON, protobuf, forms, query
// strings), calls a MessageService, maps its errors to HTTP statuses through
// one table and encodes the answer as JSON or protobuf. The rules of chat
// ids, senders, texts and paging belong to the service; the gateway only
// forwards what the client sent.
package gateway

import (
	"context"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
	"github.com/cloudwego/hertz/pkg/protocol/suite"
	"github.com/cloudwego/hertz/pkg/route"

	"github.com/pigeonhole-im/pigeonhole/http-server/pagecache"
	"github.com/pigeonhole-im/pigeonhole/http-server/web"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// MessageService is what the gateway needs from the message service.
// *pigeonhole.Service satisfies it, and so does the Kitex RPC client
// adapter. Errors should be *pigeonhole.Error (possibly wrapped); any other
// error is answered as internal.
type MessageService interface {
	Send(ctx context.Context, req pigeonhole.SendRequest) (pigeonhole.Message, error)
	Pull(ctx context.Context, req pigeonhole.PullRequest) (pigeonhole.Page, error)
	Ready(ctx context.Context) error
	CreateGroup(ctx context.Context, req pigeonhole.CreateGroupRequest) (pigeonhole.Group, error)
	Group(ctx context.Context, req pigeonhole.GroupRequest) (pigeonhole.Group, error)
	ChangeMembers(ctx context.Context, req pigeonhole.ChangeMembersRequest) (pigeonhole.Group, error)
	Inbox(ctx context.Context, req pigeonhole.InboxRequest) (pigeonhole.InboxPage, error)
	MarkRead(ctx context.Context, req pigeonhole.ReadRequest) (pigeonhole.ReadState, error)
}

var _ MessageService = (*pigeonhole.Service)(nil)

// Defaults for the zero fields of Config.
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultRequestTimeout = 5 * time.Second
	DefaultMaxWaiters     = 10_000
	// DefaultMaxHeaderBytes bounds a request's line and headers; the
	// gateway's own headers take a few hundred bytes.
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultReadTimeout bounds each wait for more of a request, so a
	// client that stops sending mid-request is dropped.
	DefaultReadTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds each wait to hand an answer to a client
	// that does not read it.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultIdleTimeout is how long a kept-alive connection may wait for
	// its next request.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxAnswerBytes bounds the bytes of pages the gateway holds at
	// once while answering pulls (see byteBudget).
	DefaultMaxAnswerBytes = 64 << 20
	// DefaultAnswerWait is how long a page waits for room in
	// MaxAnswerBytes before its pull is answered 503.
	DefaultAnswerWait = 500 * time.Millisecond
)

// Config holds the gateway's limits. Zero fields take the defaults.
type Config struct {
	// MaxBodyBytes is the largest request body accepted; larger bodies get
	// a JSON 413 too_large (default DefaultMaxBodyBytes).
	MaxBodyBytes int
	// RequestTimeout is the deadline put on the context passed to the
	// service; when it passes, the client gets 504 deadline_exceeded
	// (default DefaultRequestTimeout).
	RequestTimeout time.Duration
	// Logger receives one record per 5xx answer and per recovered panic
	// (default slog.Default()).
	Logger *slog.Logger
	// Metrics, when set, counts and times every request. It is not served
	// here: /metrics has a listener of its own.
	Metrics *Metrics
	// Auth, when not nil, verifies the bearer token of every send and
	// pull: without a valid one the client gets 401 unauthenticated, with
	// one the request reaches the service with its caller and token (see
	// Credential). The probes need no token.
	Auth Authenticator
	// SendLimit and PullLimit bound each caller's sends and pulls (zero:
	// no limit); over them the client gets 429 rate_limited with
	// Retry-After. The caller is the token's subject with Auth, the
	// client's address without.
	SendLimit, PullLimit Limit
	// MaxCallers bounds the callers whose buckets are kept (default
	// DefaultMaxCallers).
	MaxCallers int
	// TrustedProxies are the peers whose X-Forwarded-For names the
	// client's address.
	TrustedProxies []netip.Prefix
	// Now is the clock of the rate limits (default time.Now).
	Now func() time.Time
	// Pages, when not nil, keeps the encoded answers to pulls the service
	// marked final and answers the same pulls from it.
	Pages *pagecache.Cache
	// Web is the browser client, served at "/" and "/static/..." (none
	// when empty).
	Web []web.File
	// DevLogin, when not nil, serves POST /api/dev-login, which mints a
	// token for any member id: for development on a loopback listener only.
	DevLogin *DevLogin
	// MaxWait caps a pull's wait_ms (default pigeonhole.DefaultMaxWait).
	// A waiting pull's deadline is its wait plus RequestTimeout.
	MaxWait time.Duration
	// MaxWaiters is the most pulls waiting at once; a pull beyond it is
	// answered at once, as a pull without wait_ms (default
	// DefaultMaxWaiters).
	MaxWaiters int
	// Waiting, when not nil, is where the gateway counts the calls
	// waiting now (for the process's memory limit, say); else it keeps
	// a count of its own.
	Waiting *atomic.Int64
	// MaxHeaderBytes bounds a request's line and headers; larger ones are
	// refused and their connection closed (default DefaultMaxHeaderBytes).
	MaxHeaderBytes int
	// ReadTimeout, WriteTimeout and IdleTimeout bound each wait for a
	// request's bytes, for a client to take an answer's bytes, and for the
	// next request on a kept-alive connection (defaults
	// DefaultReadTimeout, DefaultWriteTimeout, DefaultIdleTimeout).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxAnswerBytes bounds the bytes of pages held at once while pulls
	// are answered; a page that does not fit within AnswerWait is answered
	// 503 unavailable (defaults DefaultMaxAnswerBytes, DefaultAnswerWait).
	MaxAnswerBytes int64
	AnswerWait     time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxCallers <= 0 {
		c.MaxCallers = DefaultMaxCallers
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxWait <= 0 {
		c.MaxWait = pigeonhole.DefaultMaxWait
	}
	if c.MaxWaiters <= 0 {
		c.MaxWaiters = DefaultMaxWaiters
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxAnswerBytes <= 0 {
		c.MaxAnswerBytes = DefaultMaxAnswerBytes
	}
	if c.AnswerWait <= 0 {
		c.AnswerWait = DefaultAnswerWait
	}
	return c
}

// New returns a Hertz server listening on addr (not yet running) with every
// route of Register. opts are appended after the gateway's own options, so
// callers may add to them (tests pass server.WithListener) but should not
// turn off streamed request bodies: that is what lets an oversized body be
// answered with a JSON 413 instead of Hertz's plain-text one. Requests
// Hertz refuses before routing them are answered in JSON too.
func New(addr string, svc MessageService, cfg Config, opts ...config.Option) *server.Hertz {
	cfg = cfg.withDefaults()
	base := []config.Option{
		server.WithHostPorts(addr),
		// With a streamed body Hertz reads at most 8 KiB before calling
		// the handler, whatever the size, and never answers 413 itself;
		// readBody enforces MaxBodyBytes and answers in JSON.
		server.WithStreamBody(true),
		server.WithMaxRequestBodySize(cfg.MaxBodyBytes),
		// Pre-parsing would stream a multipart body of any size to temp
		// files before the limit is checked; bind parses forms itself.
		server.WithDisablePreParseMultipartForm(true),
		server.WithHandleMethodNotAllowed(true),
		server.WithDisablePrintRoute(true),
		// Hertz's own bounds on what a client can make it hold or wait
		// for: a header larger than MaxHeaderBytes is refused as soon as
		// that many bytes have come, and a client that stalls is dropped.
		server.WithMaxHeaderBytes(cfg.MaxHeaderBytes),
		server.WithReadTimeout(cfg.ReadTimeout),
		server.WithWriteTimeout(cfg.WriteTimeout),
		server.WithIdleTimeout(cfg.IdleTimeout),
		server.WithKeepAliveTimeout(cfg.IdleTimeout),
	}
	h := server.New(append(base, opts...)...)
	// Hertz's HTTP/1.1 server, with its own refusals (431, malformed
	// requests) answered as JSON errors; see parseerrors.go.
	h.AddProtocol(suite.HTTP1, &parseErrorsFactory{engine: h.Engine, maxHeaderBytes: cfg.MaxHeaderBytes})
	Register(h.Engine, svc, cfg)
	return h
}

// Register adds the gateway's middleware (request id, panic recovery), its
// routes and its JSON 404/405 handlers to e. Routes registered on e before
// Register do not get the middleware. On an engine whose requests are not
// streamed (route.NewEngine's default), bodies over Hertz's own
// MaxRequestBodySize get Hertz's plain-text 413. When e shuts down, the
// pulls waiting for messages are answered at once (see pull).
func Register(e *route.Engine, svc MessageService, cfg Config) {
	g := &gateway{svc: svc, cfg: cfg.withDefaults(), waiting: cfg.Waiting}
	if g.waiting == nil {
		g.waiting = new(atomic.Int64)
	}
	g.log = g.cfg.Logger
	g.sends = newLimiter("send", g.cfg.SendLimit, g.cfg.MaxCallers)
	g.pulls = newLimiter("pull", g.cfg.PullLimit, g.cfg.MaxCallers)
	g.stopping, g.stopWaiting = context.WithCancel(context.Background())
	e.OnShutdown = append(e.OnShutdown, func(context.Context) { g.stopWaiting() })
	g.answers = newByteBudget(g.cfg.MaxAnswerBytes, g.cfg.AnswerWait)
	e.Use(g.middleware)
	endpoints := []endpoint{
		{consts.MethodGet, "/ping", g.ping},
		{consts.MethodGet, "/healthz", g.healthz},
		{consts.MethodGet, "/readyz", g.readyz},
		{consts.MethodPost, "/api/send", g.send},
		{consts.MethodGet, "/api/pull", g.pull},
		{consts.MethodPost, "/api/pull", g.pull},
		{consts.MethodPost, "/api/chats", g.createChat},
		{consts.MethodGet, "/api/chats/:chat", g.getChat},
		{consts.MethodPost, "/api/chats/:chat/members", g.changeMembers},
		{consts.MethodGet, "/api/inbox", g.inbox},
		{consts.MethodPost, "/api/read", g.read},
	}
	if g.cfg.Metrics != nil {
		// /metrics itself is served on a listener of its own (OpsHandler).
		g.cfg.Metrics.watchWaiting(g.waiting.Load)
	}
	if g.cfg.DevLogin != nil {
		endpoints = append(endpoints, endpoint{consts.MethodPost, "/api/dev-login", g.devLogin})
	}
	endpoints = append(endpoints, staticEndpoints(g.cfg.Web)...)
	g.allow = make(map[string]string, len(endpoints))
	for _, ep := range endpoints {
		e.Handle(ep.method, ep.path, ep.handle)
		if prev := g.allow[ep.path]; prev != "" {
			g.allow[ep.path] = prev + ", " + ep.method
		} else {
			g.allow[ep.path] = ep.method
		}
	}
	e.NoRoute(g.noRoute)
	e.NoMethod(g.noRoute)
}

// endpoint is one route of the gateway.
type endpoint struct {
	method string
	path   string
	handle app.HandlerFunc
}

// gateway holds what the handlers share.
type gateway struct {
	svc   MessageService
	cfg   Config
	log   *slog.Logger
	allow map[string]string // path → "GET, POST", for 405 and its Allow header
	// sends and pulls are the rate limits (nil: none).
	sends, pulls *limiter
	// waiting counts the pulls waiting now, against MaxWaiters.
	waiting *atomic.Int64
	// stopping ends when the server shuts down: waiting pulls answer.
	stopping    context.Context
	stopWaiting context.CancelFunc
	// answers bounds the bytes of pages held while pulls are answered.
	answers *byteBudget
}

// middleware runs around every request, matched or not: it assigns the
// request id, refuses ambiguous framing (closing the connection) and
// methods the gateway does not know, turns a panic into a logged 500 and
// records the metrics, labelled only with values from fixed sets.
func (g *gateway) middleware(c context.Context, ctx *app.RequestContext) {
	markHandled(ctx)
	method, known := methodLabel(ctx.Request.Header.Method())
	if m := g.cfg.Metrics; m != nil {
		start := time.Now()
		defer func() {
			route := ctx.FullPath()
			if route == "" {
				route = "unmatched" // bounded label values, whatever clients send
			}
			m.observeRequest(ctx, route, method, start)
		}()
	}
	id := requestIDOrNew(ctx.Request.Header.Peek(HeaderRequestID))
	ctx.Response.Header.Set(HeaderRequestID, id)
	c = WithRequestID(c, id)
	defer func() {
		if r := recover(); r != nil {
			g.recovered(c, ctx, r)
		}
	}()
	if err := checkFraming(ctx.Request.Header.RawHeaders(), ctx.Request.Header.IsHTTP11()); err != nil {
		ctx.Abort()
		ctx.SetConnectionClose() // what follows on the connection is not a request
		g.fail(c, ctx, err)
		return
	}
	if !known {
		ctx.Abort()
		g.fail(c, ctx, pigeonhole.Errorf(CodeNotImplemented, "the request method is not implemented"))
		return
	}
	ctx.Next(c)
	if ctx.Response.StatusCode() == consts.StatusBadRequest && len(ctx.Response.Body()) == 0 {
		// Hertz's router refused the request before routing it (an
		// HTTP/1.1 request without Host, a path not starting with '/')
		// and runs only the middleware, leaving the body to it.
		g.fail(c, ctx, invalidf("the request needs a Host header and a path that starts with '/'"))
	}
}

// noRoute answers requests no route matched: 405 when the path exists
// under another method, 404 otherwise. It serves as both Hertz's NoRoute
// and NoMethod handler, so the answer does not depend on the engine's
// HandleMethodNotAllowed option.
func (g *gateway) noRoute(c context.Context, ctx *app.RequestContext) {
	path := string(ctx.Request.URI().Path())
	if allow, ok := g.allow[path]; ok {
		ctx.Response.Header.Set("Allow", allow)
		g.fail(c, ctx, pigeonhole.Errorf(CodeMethodNotAllowed, "method %s is not allowed on %s; use %s",
			ctx.Request.Header.Method(), path, allow))
		return
	}
	g.fail(c, ctx, pigeonhole.Errorf(pigeonhole.CodeNotFound, "no such endpoint: %s", pigeonhole.Quote(path)))
}

// serviceContext bounds the service call by RequestTimeout.
func (g *gateway) serviceContext(c context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c, g.cfg.RequestTimeout)
}
