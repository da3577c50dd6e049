package rpcclient_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/server"

	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// sendBatchWatch is a server middleware that shows a test each SendBatch
// the service receives, before it is handled; watch's error, if any,
// fails the RPC instead.
func sendBatchWatch(watch func(ctx context.Context, req *rpc.SendBatchRequest) error) server.Option {
	return server.WithMiddleware(func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			if args, ok := req.(*rpc.IMServiceSendBatchArgs); ok && args.Req != nil {
				if err := watch(ctx, args.Req); err != nil {
					return err
				}
			}
			return next(ctx, req, resp)
		}
	})
}

// TestRetriedBatchLeavesOutCallersWhoGaveUp fails a batch's first attempt
// after one of its two callers has given up: the retry must carry only the
// other caller's item, so the abandoned message is never stored.
func TestRetriedBatchLeavesOutCallersWhoGaveUp(t *testing.T) {
	gone, giveUp := context.WithCancel(context.Background())
	var mu sync.Mutex
	var sizes []int
	svc := startService(t, sendBatchWatch(func(_ context.Context, req *rpc.SendBatchRequest) error {
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, len(req.Items))
		if len(sizes) == 1 {
			giveUp()
			return errors.New("the replica is lost mid-call")
		}
		return nil
	}))
	c := newClient(t, 16, svc.addr)
	key := func(k string) *string { return &k }
	errs := rpcclient.SendBatchFor(c, []context.Context{gone, context.Background()}, []*rpc.SendRequest{
		{Message: &rpc.Message{Chat: "a:b", Sender: "a", Text: "abandoned", ClientMsgId: key("k1")}},
		{Message: &rpc.Message{Chat: "a:b", Sender: "a", Text: "awaited", ClientMsgId: key("k2")}},
	})
	if got, want := pigeonhole.ErrorCode(errs[0]), pigeonhole.CodeDeadlineExceeded; got != want {
		t.Fatalf("the abandoned item: got %v (%v), want %s", got, errs[0], want)
	}
	if errs[1] != nil {
		t.Fatalf("the awaited item: %v", errs[1])
	}
	mu.Lock()
	if len(sizes) != 2 || sizes[0] != 2 || sizes[1] != 1 {
		t.Fatalf("attempts carried %v items; want [2 1]", sizes)
	}
	mu.Unlock()
	page, err := c.Pull(context.Background(), pigeonhole.PullRequest{Chat: "a:b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 1 || page.Messages[0].Text != "awaited" {
		t.Fatalf("stored %+v; want only the awaited message", page.Messages)
	}
}

// TestBatchCarriesTheCallersDeadline sends through a batching client with a
// deadline sooner than the RPC timeout: the handler's context on the
// service must end by the caller's deadline, not the timeout's.
func TestBatchCarriesTheCallersDeadline(t *testing.T) {
	const wait = 800 * time.Millisecond
	left := make(chan time.Duration, 1)
	svc := startService(t, sendBatchWatch(func(ctx context.Context, _ *rpc.SendBatchRequest) error {
		d, ok := ctx.Deadline()
		if !ok {
			left <- 0
		} else {
			left <- time.Until(d)
		}
		return nil
	}))
	c := newClient(t, 16, svc.addr) // RPC timeout 2s
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := c.Send(ctx, pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if got := <-left; got <= 0 || got > wait {
		t.Fatalf("the service's handler had %v left; want the caller's deadline, at most %v (0: none)", got, wait)
	}
}
