// Package kitexrpc serves the message service over Kitex Thrift RPC
// (idl_rpc.thrift). It is the only package of the service that sees the
// generated Kitex types: it converts them to and from the core's types and
// maps the core's errors to the response's Code and Msg.
package kitexrpc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// successMsg is the Msg of a successful response, as in the original
// assignment.
const successMsg = "success"

// Handler implements the generated rpc.IMService over a pigeonhole.Service.
//
// Business errors (bad input, conflicts, storage trouble) travel in the
// response's Code (the error code's stable number; 0 is success) and Msg
// (the client-safe message), never as transport errors, so gateways built
// from the original IDL keep working.
//
// With an Authenticator, every Send and Pull must carry a credential (see
// WithCredential; batch items carry their own), which the handler verifies
// and whose caller the service's rules then apply to.
type Handler struct {
	svc  *pigeonhole.Service
	log  *slog.Logger
	obs  Observer
	auth Authenticator
	// work runs a batch's items (see workers).
	work *workers
}

var _ rpc.IMService = (*Handler)(nil)

// Observer is told the outcome and duration of every RPC.
type Observer interface {
	ObserveRPC(method, code string, d time.Duration)
}

type noObserver struct{}

func (noObserver) ObserveRPC(string, string, time.Duration) {}

// NewHandler returns a handler over svc that logs internal errors to log
// and reports every RPC to obs (which may be nil). auth, when not nil,
// verifies the callers' credentials; svc should then require callers too
// (pigeonhole.Config.RequireCaller), so that no path skips the check.
func NewHandler(svc *pigeonhole.Service, log *slog.Logger, obs Observer, auth Authenticator) *Handler {
	if obs == nil {
		obs = noObserver{}
	}
	return &Handler{svc: svc, log: log, obs: obs, auth: auth, work: newWorkers(2*rpc.MaxBatch, 10*time.Second)}
}

// Send implements rpc.IMService.
func (h *Handler) Send(ctx context.Context, req *rpc.SendRequest) (*rpc.SendResponse, error) {
	return h.send(ctx, Credential(ctx), req)
}

// send is Send with the caller's credential given.
func (h *Handler) send(ctx context.Context, token string, req *rpc.SendRequest) (resp *rpc.SendResponse, _ error) {
	defer h.observe("Send", time.Now(), func() int32 { return resp.Code })
	ctx, err := h.authenticate(ctx, token)
	if err != nil {
		code, msg := h.fail(ctx, "send", err)
		return &rpc.SendResponse{Code: code, Msg: msg}, nil
	}
	var m *rpc.Message
	if req != nil {
		m = req.GetMessage()
	}
	if m == nil {
		return &rpc.SendResponse{Code: pigeonhole.CodeInvalidArgument.Number(), Msg: "message is required"}, nil
	}
	stored, err := h.svc.Send(ctx, pigeonhole.SendRequest{
		Chat:        m.GetChat(),
		Sender:      m.GetSender(),
		Text:        m.GetText(),
		ClientMsgID: m.GetClientMsgId(),
	})
	if err != nil {
		code, msg := h.fail(ctx, "send", err)
		return &rpc.SendResponse{Code: code, Msg: msg}, nil
	}
	chat := stored.Chat.String()
	return &rpc.SendResponse{Code: 0, Msg: successMsg, SendTime: &stored.SendTime, Chat: &chat}, nil
}

// Pull implements rpc.IMService. An absent Reverse means forward, an
// absent WaitMs no wait.
func (h *Handler) Pull(ctx context.Context, req *rpc.PullRequest) (*rpc.PullResponse, error) {
	return h.pull(ctx, Credential(ctx), req, 0)
}

// pull is Pull with the caller's credential given and a page byte budget
// (0: the service's).
func (h *Handler) pull(ctx context.Context, token string, req *rpc.PullRequest, maxBytes int) (resp *rpc.PullResponse, _ error) {
	defer h.observe("Pull", time.Now(), func() int32 { return resp.Code })
	ctx, err := h.authenticate(ctx, token)
	if err != nil {
		code, msg := h.fail(ctx, "pull", err)
		return &rpc.PullResponse{Code: code, Msg: msg}, nil
	}
	if req == nil {
		return &rpc.PullResponse{Code: pigeonhole.CodeInvalidArgument.Number(), Msg: "request is required"}, nil
	}
	page, err := h.svc.Pull(ctx, pigeonhole.PullRequest{
		Chat:     req.GetChat(),
		Cursor:   req.GetCursor(),
		Limit:    req.GetLimit(),
		Reverse:  req.GetReverse(),
		MaxBytes: maxBytes,
		Wait:     time.Duration(req.GetWaitMs()) * time.Millisecond,
	})
	if err != nil {
		code, msg := h.fail(ctx, "pull", err)
		return &rpc.PullResponse{Code: code, Msg: msg}, nil
	}
	msgs := make([]*rpc.Message, len(page.Messages))
	flat := make([]rpc.Message, len(page.Messages)) // one allocation for the page
	var chat string
	if len(page.Messages) > 0 {
		chat = page.Messages[0].Chat.String()
	}
	for i, m := range page.Messages {
		flat[i] = rpc.Message{Chat: chat, Text: m.Text, Sender: m.Sender, SendTime: m.SendTime}
		msgs[i] = &flat[i]
	}
	return &rpc.PullResponse{
		Code:       0,
		Msg:        successMsg,
		Messages:   msgs,
		HasMore:    &page.HasMore,
		NextCursor: &page.NextCursor,
		Final:      &page.Final,
	}, nil
}

// SendBatch implements rpc.IMService: each item is handled as a Send of
// its own, all at once, so that the store can commit them together. A
// batch of more than rpc.MaxBatch items is refused whole with
// invalid_argument, one of several items with more than rpc.MaxBatchBytes
// of text with too_large (a SendBatch of 1,024 texts of 60 KB stored 61 MB
// in one call).
func (h *Handler) SendBatch(ctx context.Context, req *rpc.SendBatchRequest) (*rpc.SendBatchResponse, error) {
	if req == nil {
		req = &rpc.SendBatchRequest{}
	}
	size := 0
	for _, item := range req.Items {
		if item != nil && item.Message != nil {
			size += len(item.Message.Text)
		}
	}
	if size > rpc.MaxBatchBytes && len(req.Items) > 1 { // a lone item is bounded by the text limit
		return &rpc.SendBatchResponse{Code: pigeonhole.CodeTooLarge.Number(),
			Msg: fmt.Sprintf("a batch carries at most %d bytes of text, got %d", rpc.MaxBatchBytes, size)}, nil
	}
	send := func(ctx context.Context, _ int, token string, item *rpc.SendRequest) (*rpc.SendResponse, error) {
		return h.send(ctx, token, item)
	}
	items, code, msg := runBatch(h, ctx, req.Items, req.GetRequestIds(), req.GetCredentials(), send,
		func(code int32, msg string) *rpc.SendResponse { return &rpc.SendResponse{Code: code, Msg: msg} })
	return &rpc.SendBatchResponse{Code: code, Msg: msg, Items: items}, nil
}

// PullBatch implements rpc.IMService: each item is handled as a Pull of
// its own, all at once, its page's byte budget an equal share of
// rpc.MaxBatchBytes (but at least one message, at most a lone pull's budget).
// Where the service's text limit leaves no share for an item, the item is
// answered unavailable, to be pulled again.
// (A PullBatch of 64 pages of 6.4 MB was a 410 MB answer.)
func (h *Handler) PullBatch(ctx context.Context, req *rpc.PullBatchRequest) (*rpc.PullBatchResponse, error) {
	if req == nil {
		req = &rpc.PullBatchRequest{}
	}
	share := rpc.MaxBatchBytes / max(len(req.Items), 1)
	room := max(rpc.MaxBatchBytes/h.svc.Config().MaxTextBytes, 1) // items with a page of one message at least
	pull := func(ctx context.Context, i int, token string, item *rpc.PullRequest) (*rpc.PullResponse, error) {
		if i >= room {
			return &rpc.PullResponse{Code: pigeonhole.CodeUnavailable.Number(),
				Msg: fmt.Sprintf("a batch answers at most %d bytes of text, which this item could pass; pull it again", rpc.MaxBatchBytes)}, nil
		}
		return h.pull(ctx, token, item, share)
	}
	items, code, msg := runBatch(h, ctx, req.Items, req.GetRequestIds(), req.GetCredentials(), pull,
		func(code int32, msg string) *rpc.PullResponse { return &rpc.PullResponse{Code: code, Msg: msg} })
	return &rpc.PullBatchResponse{Code: code, Msg: msg, Items: items}, nil
}

// runBatch runs do for every item concurrently on the handler's workers,
// each with its caller's
// request id (ids[i], when there is one) in its context and its caller's
// credential (creds[i], when there is one; the batch's own is never used
// for an item, which may come from anyone), and returns the
// answers in order with the batch's own Code and Msg. An item that panics
// is answered with failed's internal error; the others go on. A batch of
// more than rpc.MaxBatch items (the contract's bound) is refused whole.
func runBatch[Req, Resp any](h *Handler, ctx context.Context, items []Req, ids, creds []string,
	do func(ctx context.Context, i int, token string, item Req) (Resp, error), failed func(code int32, msg string) Resp) ([]Resp, int32, string) {
	if len(items) > rpc.MaxBatch {
		return nil, pigeonhole.CodeInvalidArgument.Number(), fmt.Sprintf("a batch holds at most %d items, got %d", rpc.MaxBatch, len(items))
	}
	out := make([]Resp, len(items))
	var wg sync.WaitGroup
	for i, item := range items {
		itemCtx, token := ctx, ""
		if i < len(ids) {
			itemCtx = WithRequestID(ctx, ids[i])
		}
		if i < len(creds) {
			token = creds[i]
		}
		one := func() {
			defer func() {
				if p := recover(); p != nil {
					out[i] = failed(h.fail(itemCtx, "batch item", pigeonhole.Errorf(pigeonhole.CodeInternal, "panic: %v", p)))
				}
			}()
			out[i], _ = do(itemCtx, i, token, item) // send and pull answer every failure in their response
		}
		wg.Add(1)
		h.work.run(func() {
			defer wg.Done()
			one()
		})
	}
	wg.Wait()
	return out, 0, successMsg
}

// Ping implements rpc.IMService: Code 0 when the service can reach its
// storage.
func (h *Handler) Ping(ctx context.Context, _ *rpc.PingRequest) (resp *rpc.PingResponse, _ error) {
	defer h.observe("Ping", time.Now(), func() int32 { return resp.Code })
	if err := h.svc.Ready(ctx); err != nil {
		code, msg := h.fail(ctx, "ping", err)
		return &rpc.PingResponse{Code: code, Msg: msg}, nil
	}
	return &rpc.PingResponse{Code: 0, Msg: successMsg}, nil
}

func (h *Handler) observe(method string, start time.Time, code func() int32) {
	c := ""
	if n := code(); n != 0 {
		c = string(pigeonhole.CodeFromNumber(n))
	}
	h.obs.ObserveRPC(method, c, time.Since(start))
}

// fail maps err to the wire once, logging what the client is not told.
func (h *Handler) fail(ctx context.Context, method string, err error) (int32, string) {
	code := pigeonhole.ErrorCode(err)
	switch code {
	case pigeonhole.CodeInternal, pigeonhole.CodeUnavailable, pigeonhole.CodeDeadlineExceeded:
		h.log.LogAttrs(ctx, slog.LevelError, "request failed",
			slog.String("method", method), slog.String("code", string(code)),
			slog.String("request_id", RequestID(ctx)), slog.Any("error", err))
	}
	return code.Number(), pigeonhole.ErrorMessage(err)
}
