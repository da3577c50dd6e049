// Package rpcclient is the gateway's client of the message service over
// Kitex Thrift RPC. It is the only package of the gateway that sees the
// generated Kitex types: it converts the core's request types to them and
// the responses' Code/Msg back to *pigeonhole.Error.
package rpcclient

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/bytedance/gopkg/cloud/metainfo"
	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/client/callopt"
	"github.com/cloudwego/kitex/pkg/circuitbreak"
	"github.com/cloudwego/kitex/pkg/connpool"
	"github.com/cloudwego/kitex/pkg/discovery"
	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/transport"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc/imservice"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Config configures the client. Exactly one of Addrs and Resolver is used:
// Resolver when set.
type Config struct {
	// Addrs is a static list of message-service replicas (host:port).
	Addrs []string
	// Resolver discovers replicas (e.g. etcd).
	Resolver discovery.Resolver
	// Timeout bounds each RPC attempt (default DefaultTimeout), plus its
	// wait for a waiting pull; the caller's deadline, if sooner, wins.
	Timeout time.Duration
	// ConnectTimeout bounds dialing a replica (default 500ms).
	ConnectTimeout time.Duration
	// RequestID extracts the caller's request id from a context, to be
	// forwarded to the service (optional).
	RequestID func(context.Context) string
	// Credential extracts the caller's bearer token from a context, to be
	// forwarded to the service, which verifies it itself (optional).
	Credential func(context.Context) string
	// Observer is told about every attempt of every call (optional).
	Observer Observer
	// MaxBatch is the most concurrent calls coalesced into one batch RPC
	// (SendBatch, PullBatch); 0 or 1 sends every call in an RPC of its
	// own (Send, Pull), as replicas older than the batch methods need.
	MaxBatch int
	// BatchLanes is how many batch RPCs of each kind may be in flight at
	// once (default DefaultBatchLanes).
	BatchLanes int
	// Options are extra Kitex client options.
	Options []client.Option
}

// Defaults of Config.
const (
	DefaultTimeout    = 3 * time.Second
	DefaultBatchLanes = 8
)

// WaitConnections is how many multiplexed connections to each replica
// carry the waiting calls (long polls), however many there are.
const WaitConnections = 2

// Observer is told the outcome of each RPC attempt; retry is true for the
// attempts after a call's first.
type Observer interface {
	ObserveAttempt(method string, retry bool, err error)
}

// Client calls the message service. It is safe for concurrent use and
// meant to be built once: it keeps a pool of long connections per replica,
// and WaitConnections multiplexed ones for the waiting calls.
type Client struct {
	rpc        imservice.Client // over pooled connections
	waits      imservice.Client // over multiplexed connections, for waiting calls
	requestID  func(context.Context) string
	credential func(context.Context) string
	observed   bool          // an Observer counts attempts
	timeout    time.Duration // of one attempt (Config.Timeout), before any wait
	failures   *failureRate  // of attempts, for the retry breaker
	// send and pull carry one call to the service: in a batch RPC, or in
	// an RPC of its own when batching is off. Their errors are mapped.
	send func(context.Context, *rpc.SendRequest) (*rpc.SendResponse, error)
	pull func(context.Context, *rpc.PullRequest) (*rpc.PullResponse, error)
}

// New builds the client.
func New(cfg Config) (*Client, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 500 * time.Millisecond
	}
	opts := []client.Option{
		client.WithRPCTimeout(cfg.Timeout),
		client.WithConnectTimeout(cfg.ConnectTimeout),
		// TTHeader carries the request id to the service.
		client.WithTransportProtocol(transport.TTHeader),
		client.WithMetaHandler(transmeta.ClientTTHeaderHandler),
		// No Kitex retry: the client retries by itself (see call), so
		// that an attempt Kitex gives up on shares no result with anyone.
		// Every attempt of a batch RPC sends only the items whose callers
		// still wait.
		client.WithMiddleware(dropAbandoned),
		// A circuit breaker per replica: one that keeps failing is passed
		// over (its calls fail fast and are retried elsewhere) until it
		// recovers. No service-wide breaker: it would turn the loss of one
		// replica into failures on all of them.
		client.WithInstanceMW(circuitbreak.NewCBSuite(circuitbreak.RPCInfo2Key).InstanceCBMW()),
		// Kitex's default weighted-random balancer. We do not route by chat:
		// Kitex v0.16.1's consistent-hash picker keeps choosing an instance
		// that refuses connections until discovery drops it, which would
		// turn a dead replica into failed requests; correctness never
		// depended on routing anyway.
	}
	switch {
	case cfg.Resolver != nil:
		opts = append(opts, client.WithResolver(cfg.Resolver))
	case len(cfg.Addrs) > 0:
		opts = append(opts, client.WithHostPorts(cfg.Addrs...))
	default:
		return nil, errors.New("rpcclient: no message-service address and no resolver")
	}
	if cfg.Observer != nil {
		opts = append(opts, client.WithInstanceMW(attemptObserver(cfg.Observer)))
	}
	opts = append(opts, cfg.Options...)
	// Calls that answer at once take a pooled connection each, for the
	// length of the call: a batch RPC carries many callers' calls anyway.
	c, err := imservice.NewClient(rpc.ServiceName, append(opts, client.WithLongConnection(connpool.IdleConfig{
		MaxIdlePerAddress: 512,
		MaxIdleGlobal:     4096,
		MaxIdleTimeout:    time.Minute,
	}))...)
	if err != nil {
		return nil, fmt.Errorf("rpcclient: %w", err)
	}
	// Waiting calls (long polls) share WaitConnections multiplexed
	// connections per replica: a connection each would cost a gateway
	// of 10,000 waiters 10,000 sockets (on top of its callers' 10,000)
	// and its replica as many, and thousands of dials whenever a wave of
	// polls begins together.
	// They have no RPC timeout: see waitCall.
	waits, err := imservice.NewClient(rpc.ServiceName, append(append(opts, client.WithRPCTimeout(0)), multiplexed(WaitConnections)...)...)
	if err != nil {
		return nil, fmt.Errorf("rpcclient: %w", err)
	}
	cl := &Client{rpc: c, waits: waits, requestID: cfg.RequestID, credential: cfg.Credential, observed: cfg.Observer != nil, timeout: cfg.Timeout,
		failures: &failureRate{now: time.Now}}
	if cfg.MaxBatch <= 1 {
		cl.send = func(ctx context.Context, req *rpc.SendRequest) (*rpc.SendResponse, error) {
			return mapped(call(cl, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.SendResponse, error) {
				return c.Send(ctx, req, opts...)
			}))
		}
		cl.pull = func(ctx context.Context, req *rpc.PullRequest) (*rpc.PullResponse, error) {
			return mapped(call(cl, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.PullResponse, error) {
				return c.Pull(ctx, req, opts...)
			}))
		}
		return cl, nil
	}
	lanes, most := cfg.BatchLanes, min(cfg.MaxBatch, MaxBatch)
	if lanes <= 0 {
		lanes = DefaultBatchLanes
	}
	sends := &batcher[*rpc.SendRequest, *rpc.SendResponse]{lanes: lanes, max: most, call: cl.sendBatch,
		cost: func(r *rpc.SendRequest) int { return len(r.Message.Text) }, maxCost: MaxBatchBytes}
	pulls := &batcher[*rpc.PullRequest, *rpc.PullResponse]{lanes: lanes, max: most, call: cl.pullBatch}
	cl.send = func(ctx context.Context, req *rpc.SendRequest) (*rpc.SendResponse, error) {
		return sends.do(ctx, req, cl.id(ctx), cl.token(ctx))
	}
	cl.pull = func(ctx context.Context, req *rpc.PullRequest) (*rpc.PullResponse, error) {
		return pulls.do(ctx, req, cl.id(ctx), cl.token(ctx))
	}
	return cl, nil
}

// Batch bounds, the contract's (rpc.MaxBatch, rpc.MaxBatchBytes): the
// most calls one batch RPC carries, and the most text one SendBatch
// carries (a PullBatch's answer the service bounds). The service refuses
// more.
const (
	MaxBatch      = rpc.MaxBatch
	MaxBatchBytes = rpc.MaxBatchBytes
)

// mapped passes an RPC's outcome on with its transport error mapped.
func mapped[T any](resp T, err error) (T, error) {
	if err != nil {
		return resp, transportError(err)
	}
	return resp, nil
}

// attemptsKey is the context key of a call's attempt counter.
type attemptsKey struct{}

// attemptObserver runs once per attempt, after discovery and balancing.
func attemptObserver(obs Observer) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			err := next(ctx, req, resp)
			n, _ := ctx.Value(attemptsKey{}).(*atomic.Int32)
			retry := n != nil && n.Add(1) > 1
			obs.ObserveAttempt(rpcinfo.GetRPCInfo(ctx).To().Method(), retry, err)
			return err
		}
	}
}

// id returns the request id of the caller of ctx, or "".
func (c *Client) id(ctx context.Context) string {
	if c.requestID == nil {
		return ""
	}
	return c.requestID(ctx)
}

// token returns the bearer token of the caller of ctx, or "".
func (c *Client) token(ctx context.Context) string {
	if c.credential == nil {
		return ""
	}
	return c.credential(ctx)
}

// outgoing prepares a call's context, shared by its attempts: the attempt
// counter, and the request id and credential to forward.
func (c *Client) outgoing(ctx context.Context) context.Context {
	if c.observed {
		ctx = context.WithValue(ctx, attemptsKey{}, new(atomic.Int32))
	}
	return withCredential(withRequestID(ctx, c.id(ctx)), c.token(ctx))
}

// withRequestID returns a context that carries id to the service in the
// RPC's TTHeader, under the contract's key; the service logs it with any
// failure of the request.
func withRequestID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return metainfo.WithValue(ctx, rpc.RequestIDKey, id)
}

// withCredential returns a context that carries the caller's bearer token
// to the service in the RPC's TTHeader, under the contract's key; the
// service verifies it itself.
func withCredential(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	return metainfo.WithValue(ctx, rpc.CredentialKey, token)
}

// Send stores a message. Errors are *pigeonhole.Error: the service's own,
// or unavailable / deadline_exceeded when it cannot be reached in time.
func (c *Client) Send(ctx context.Context, req pigeonhole.SendRequest) (pigeonhole.Message, error) {
	key := req.ClientMsgID
	if key == "" {
		key = "gw-" + rand.Text()
	}
	wire := &rpc.SendRequest{Message: &rpc.Message{Chat: req.Chat, Text: req.Text, Sender: req.Sender, ClientMsgId: &key}}
	resp, err := c.send(ctx, wire)
	if err != nil {
		return pigeonhole.Message{}, err
	}
	if resp == nil {
		return pigeonhole.Message{}, errEmpty
	}
	if resp.Code != 0 {
		return pigeonhole.Message{}, businessError(resp.Code, resp.Msg)
	}
	chat, err := pigeonhole.ParseChatID(resp.GetChat())
	if err != nil || !resp.IsSetSendTime() {
		return pigeonhole.Message{}, pigeonhole.Wrap(pigeonhole.CodeInternal, err, "malformed response from the message service")
	}
	sender := req.Sender
	if c, ok := pigeonhole.CallerFrom(ctx); ok && sender == "" {
		sender = c.Member // the service stored it as the caller's
	}
	return pigeonhole.Message{Chat: chat, Sender: sender, Text: req.Text, SendTime: resp.GetSendTime(), ClientMsgID: req.ClientMsgID}, nil
}

// waitMillis is a wait on the wire: whole milliseconds, at least 1 for a
// positive wait.
func waitMillis(wait time.Duration) *int32 {
	waitMs := int32(min(wait.Milliseconds(), math.MaxInt32))
	if wait > 0 && waitMs == 0 {
		waitMs = 1
	}
	return &waitMs
}

// Pull returns one page of a chat. Errors as for Send. A pull with a Wait
// goes in an RPC of its own over the multiplexed connections, never in a
// batch (whose answer would wait for it), and without an RPC timeout: it
// ends when ctx does (see waitCall).
func (c *Client) Pull(ctx context.Context, req pigeonhole.PullRequest) (pigeonhole.Page, error) {
	wire := &rpc.PullRequest{Chat: req.Chat, Cursor: req.Cursor, Limit: req.Limit, Reverse: &req.Reverse}
	var resp *rpc.PullResponse
	var err error
	if req.Wait != 0 {
		wire.WaitMs = waitMillis(req.Wait)
		resp, err = mapped(callWaiting(c, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.PullResponse, error) {
			return c.waits.Pull(ctx, wire, opts...)
		}))
	} else {
		resp, err = c.pull(ctx, wire)
	}
	if err != nil {
		return pigeonhole.Page{}, err
	}
	if resp == nil {
		return pigeonhole.Page{}, errEmpty
	}
	if resp.Code != 0 {
		return pigeonhole.Page{}, businessError(resp.Code, resp.Msg)
	}
	page := pigeonhole.Page{HasMore: resp.GetHasMore(), NextCursor: resp.GetNextCursor(), Final: resp.GetFinal(), Messages: make([]pigeonhole.Message, len(resp.Messages))}
	var chat pigeonhole.ChatID
	for i, m := range resp.Messages {
		if m == nil {
			return pigeonhole.Page{}, pigeonhole.Errorf(pigeonhole.CodeInternal, "malformed response from the message service")
		}
		// A page holds one chat: parse its id once.
		if chat.IsZero() || chat.String() != m.Chat {
			if chat, err = pigeonhole.ParseChatID(m.Chat); err != nil {
				return pigeonhole.Page{}, pigeonhole.Wrap(pigeonhole.CodeInternal, err, "malformed response from the message service")
			}
		}
		page.Messages[i] = pigeonhole.Message{Chat: chat, Text: m.Text, Sender: m.Sender, SendTime: m.SendTime}
	}
	return page, nil
}

var errEmpty = pigeonhole.Errorf(pigeonhole.CodeInternal, "empty response from the message service")

// sendBatch sends a batch of sends in one RPC, each item with its
// caller's request id and credential.
func (c *Client) sendBatch(ctx context.Context, items []*rpc.SendRequest, ids, creds []string) []outcome[*rpc.SendResponse] {
	resp, err := call(c, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.SendBatchResponse, error) {
		return c.rpc.SendBatch(ctx, &rpc.SendBatchRequest{Items: items, RequestIds: ids, Credentials: creds}, opts...)
	})
	if err != nil || resp == nil {
		return spread[*rpc.SendResponse](len(items), nil, batchFailure(err))
	}
	return spread(len(items), resp.Items, businessErrorOrNil(resp.Code, resp.Msg))
}

// pullBatch sends a batch of pulls in one RPC, as sendBatch.
func (c *Client) pullBatch(ctx context.Context, items []*rpc.PullRequest, ids, creds []string) []outcome[*rpc.PullResponse] {
	resp, err := call(c, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.PullBatchResponse, error) {
		return c.rpc.PullBatch(ctx, &rpc.PullBatchRequest{Items: items, RequestIds: ids, Credentials: creds}, opts...)
	})
	if err != nil || resp == nil {
		return spread[*rpc.PullResponse](len(items), nil, batchFailure(err))
	}
	return spread(len(items), resp.Items, businessErrorOrNil(resp.Code, resp.Msg))
}

// batchFailure is the error of a batch RPC that brought no answer: err,
// or no response at all.
func batchFailure(err error) error {
	if err != nil {
		return transportError(err)
	}
	return errEmpty
}

// spread gives each of a batch's n items its outcome: its own answer in
// got, or err, the failure of the whole batch (also when the answer does
// not hold one item per item).
func spread[T any](n int, got []T, err error) []outcome[T] {
	if err == nil && len(got) != n {
		err = pigeonhole.Errorf(pigeonhole.CodeInternal, "malformed response from the message service")
	}
	out := make([]outcome[T], n)
	for i := range out {
		if err != nil {
			out[i].err = err
		} else {
			out[i].out = got[i]
		}
	}
	return out
}

// Ready reports whether a replica answers and can reach its storage.
func (c *Client) Ready(ctx context.Context) error {
	resp, err := call(c, ctx, func(ctx context.Context, opts ...callopt.Option) (*rpc.PingResponse, error) {
		return c.rpc.Ping(ctx, &rpc.PingRequest{}, opts...)
	})
	if err != nil {
		return transportError(err)
	}
	if resp.GetCode() != 0 {
		return businessError(resp.GetCode(), resp.GetMsg())
	}
	return nil
}

// businessErrorOrNil is businessError, or nil for code 0.
func businessErrorOrNil(code int32, msg string) error {
	if code == 0 {
		return nil
	}
	return businessError(code, msg)
}

func businessError(code int32, msg string) error {
	return &pigeonhole.Error{Code: pigeonhole.CodeFromNumber(code), Message: msg}
}

// transportError maps an RPC failure (no answer from any replica) once.
func transportError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || kerrors.IsTimeoutError(err) {
		return pigeonhole.Wrap(pigeonhole.CodeDeadlineExceeded, err, "the message service did not answer in time")
	}
	return pigeonhole.Wrap(pigeonhole.CodeUnavailable, err, "the message service is unavailable")
}
