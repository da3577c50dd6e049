package rpcclient

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudwego/kitex/client/callopt"
	"github.com/cloudwego/kitex/pkg/endpoint"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// A batch RPC serves several callers, each with its own context. Its own
// context ends at the earliest of their deadlines: the gateway gives every
// request the same --request-timeout, so the deadlines in one batch differ
// by the moments the calls queued, and past the earliest the answer is
// late for a caller. Each attempt of the RPC, a retry's included, carries
// only the items whose callers still wait (dropAbandoned).

// callersKey is the context key of a batch RPC's callers' contexts, one
// per item, in the items' order.
type callersKey struct{}

// errCallersGone fails an attempt that no caller waits for any more; it is
// not retried.
var errCallersGone = fmt.Errorf("rpcclient: every caller of the batch gave up: %w", context.Canceled)

// batchContext returns the context of a batch RPC for the callers' contexts:
// it ends at their earliest deadline, if any has one, and carries them for
// dropAbandoned.
func batchContext(callers []context.Context) (context.Context, context.CancelFunc) {
	ctx := context.WithValue(context.Background(), callersKey{}, callers)
	var earliest time.Time
	for _, c := range callers {
		if d, ok := c.Deadline(); ok && (earliest.IsZero() || d.Before(earliest)) {
			earliest = d
		}
	}
	if earliest.IsZero() {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, earliest)
}

// deadlineOption tells the service how long the caller of ctx still waits,
// when that is less than timeout: the RPC's TTHeader carries the time left,
// and the service ends the handler's context then. Each attempt, a
// retry's included, carries the time left when it starts.
func deadlineOption(ctx context.Context, timeout time.Duration) []callopt.Option {
	d, ok := ctx.Deadline()
	if !ok {
		return nil
	}
	if left := time.Until(d); left < timeout {
		return []callopt.Option{callopt.WithRPCTimeout(max(left, time.Millisecond))}
	}
	return nil
}

// dropAbandoned is a client middleware, run for every attempt of every RPC
// (each attempt is a Kitex call; before balancing): in a batch RPC, it sends only
// the items whose callers still wait, and puts a deadline_exceeded answer
// in the place of each item left out, so the response keeps one item per
// item of the request. An attempt no caller waits for fails with
// errCallersGone.
func dropAbandoned(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, req, resp any) error {
		callers, _ := ctx.Value(callersKey{}).([]context.Context)
		keep, all := waiting(callers)
		if all {
			return next(ctx, req, resp)
		}
		if len(keep) == 0 {
			return errCallersGone
		}
		switch args := req.(type) {
		case *rpc.IMServiceSendBatchArgs:
			result, ok := resp.(*rpc.IMServiceSendBatchResult)
			if args.Req == nil || !ok {
				break
			}
			sub := &rpc.IMServiceSendBatchArgs{Req: &rpc.SendBatchRequest{
				Items: subset(args.Req.Items, keep), RequestIds: subset(args.Req.RequestIds, keep),
				Credentials: subset(args.Req.Credentials, keep)}}
			if err := next(ctx, sub, resp); err != nil {
				return err
			}
			if r := result.Success; r != nil && r.Code == 0 {
				r.Items = expand(r.Items, keep, len(args.Req.Items), func() *rpc.SendResponse {
					return &rpc.SendResponse{Code: pigeonhole.CodeDeadlineExceeded.Number(), Msg: gaveUp}
				})
			}
			return nil
		case *rpc.IMServicePullBatchArgs:
			result, ok := resp.(*rpc.IMServicePullBatchResult)
			if args.Req == nil || !ok {
				break
			}
			sub := &rpc.IMServicePullBatchArgs{Req: &rpc.PullBatchRequest{
				Items: subset(args.Req.Items, keep), RequestIds: subset(args.Req.RequestIds, keep),
				Credentials: subset(args.Req.Credentials, keep)}}
			if err := next(ctx, sub, resp); err != nil {
				return err
			}
			if r := result.Success; r != nil && r.Code == 0 {
				r.Items = expand(r.Items, keep, len(args.Req.Items), func() *rpc.PullResponse {
					return &rpc.PullResponse{Code: pigeonhole.CodeDeadlineExceeded.Number(), Msg: gaveUp}
				})
			}
			return nil
		}
		return next(ctx, req, resp)
	}
}

// gaveUp is the message of an item left out of a batch.
const gaveUp = "the caller gave up before the call was sent"

// waiting returns the indexes of the callers that still wait, and whether
// that is all of them (then keep is nil: nothing to leave out).
func waiting(callers []context.Context) (keep []int, all bool) {
	gone := 0
	for _, c := range callers {
		if c.Err() != nil {
			gone++
		}
	}
	if gone == 0 {
		return nil, true
	}
	keep = make([]int, 0, len(callers)-gone)
	for i, c := range callers {
		if c.Err() == nil {
			keep = append(keep, i)
		}
	}
	return keep, false
}

// subset returns the elements of all at the increasing indexes keep that
// all has (request ids may be fewer than items: they stay aligned).
func subset[T any](all []T, keep []int) []T {
	out := make([]T, 0, len(keep))
	for _, i := range keep {
		if i < len(all) {
			out = append(out, all[i])
		}
	}
	return out
}

// expand returns got, the answers to the items at keep, spread over n
// places, the others holding left(). An answer of the wrong length is
// returned as it is, for the caller to report.
func expand[T any](got []T, keep []int, n int, left func() T) []T {
	if len(got) != len(keep) {
		return got
	}
	out := make([]T, n)
	for i := range out {
		out[i] = left()
	}
	for j, i := range keep {
		out[i] = got[j]
	}
	return out
}
