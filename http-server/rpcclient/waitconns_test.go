package rpcclient_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/cloudwego/kitex/server"

	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// TestWaitingCallsShareConnections holds 200 long polls on distinct chats
// and two waiting inbox calls at once: the service must see them all
// arrive over at most rpcclient.WaitConnections connections, and each must
// be answered with its own chat's message, woken in the reverse order of
// their start (answers on a shared connection come back in any order).
func TestWaitingCallsShareConnections(t *testing.T) {
	const waiters = 200
	svc := startWaitingService(t)
	c := svc.client(t)
	ctx := context.Background()
	chat := func(i int) string { return fmt.Sprintf("a:w%03d", i) }

	var wg sync.WaitGroup
	for i := range waiters {
		wg.Go(func() {
			p, err := c.Pull(ctx, pigeonhole.PullRequest{Chat: chat(i), Wait: 20 * time.Second})
			if err != nil {
				t.Errorf("waiting pull %d: %v", i, err)
				return
			}
			if len(p.Messages) != 1 || p.Messages[0].Text != fmt.Sprint(i) {
				t.Errorf("waiting pull %d: got %+v, want its own message", i, p.Messages)
			}
		})
	}
	for _, member := range []string{"x", "y"} {
		first, err := c.Inbox(ctx, pigeonhole.InboxRequest{Member: member})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			p, err := c.Inbox(ctx, pigeonhole.InboxRequest{Member: member, Cursor: first.NextCursor, Wait: 20 * time.Second})
			if err != nil {
				t.Errorf("waiting inbox call of %s: %v", member, err)
				return
			}
			if len(p.Chats) != 1 || p.Chats[0].Chat.String() != "x:y" {
				t.Errorf("waiting inbox call of %s: got %+v, want [x:y]", member, p.Chats)
			}
		})
	}
	svc.awaitWaiting(t, waiters+2)
	for i := waiters - 1; i >= 0; i-- {
		if _, err := c.Send(ctx, pigeonhole.SendRequest{Chat: chat(i), Sender: "a", Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Send(ctx, pigeonhole.SendRequest{Chat: "x:y", Sender: "x", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if len(svc.conns) > rpcclient.WaitConnections {
		t.Fatalf("%d waiting calls came over %d connections, want at most %d", waiters+2, len(svc.conns), rpcclient.WaitConnections)
	}
	t.Logf("%d waiting calls came over %d connections", waiters+2, len(svc.conns))
}

// waitingService is a real service that counts the waiting calls that
// reach it, and the connections they come over.
type waitingService struct {
	*service
	mu      sync.Mutex
	conns   map[string]bool
	started int
}

func startWaitingService(t *testing.T) *waitingService {
	t.Helper()
	w := &waitingService{conns: map[string]bool{}}
	w.service = startService(t, server.WithMiddleware(func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			if waiting(req) {
				w.mu.Lock()
				w.conns[rpcinfo.GetRPCInfo(ctx).From().Address().String()] = true
				w.started++
				w.mu.Unlock()
			}
			return next(ctx, req, resp)
		}
	}))
	return w
}

// client is a client of the service, with a timeout of a second.
func (s *service) client(t *testing.T) *rpcclient.Client {
	t.Helper()
	c, err := rpcclient.New(rpcclient.Config{Addrs: []string{s.addr}, Timeout: time.Second, MaxBatch: 64})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// awaitWaiting returns once n waiting calls have reached the service and
// had time to start waiting there.
func (w *waitingService) awaitWaiting(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		w.mu.Lock()
		got := w.started
		w.mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d waiting calls reached the service", got, n)
		}
	}
	time.Sleep(100 * time.Millisecond) // every call is waiting in the service
}

// waiting reports whether req, the arguments of an RPC, is a waiting
// pull or inbox call.
func waiting(req any) bool {
	switch r := req.(type) {
	case interface{ GetReq() *rpc.PullRequest }:
		return r.GetReq().GetWaitMs() > 0
	case interface{ GetReq() *rpc.InboxRequest }:
		return r.GetReq().GetWaitMs() > 0
	}
	return false
}

// TestWaitingCallHoldsOneGoroutine holds 100 waiting pulls: each must hold
// one goroutine in the client (its caller's) and one in the service (the
// handler's). Kitex runs a call with a timeout, or with a context that can
// end, in a goroutine of its own that starts another to follow the
// context: four goroutines a call in this process.
func TestWaitingCallHoldsOneGoroutine(t *testing.T) {
	const waiters = 100
	svc := startWaitingService(t)
	c := svc.client(t)
	// A first waiting call dials the connections and starts what the
	// client and the service run once.
	ctx := context.Background()
	if _, err := c.Pull(ctx, pigeonhole.PullRequest{Chat: "a:warm", Wait: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range waiters {
		wg.Go(func() {
			if _, err := c.Pull(ctx, pigeonhole.PullRequest{Chat: fmt.Sprintf("a:g%03d", i), Wait: 20 * time.Second}); err != nil {
				t.Errorf("waiting pull %d: %v", i, err)
			}
		})
	}
	svc.awaitWaiting(t, waiters+1)
	held := runtime.NumGoroutine() - before
	for i := range waiters {
		if _, err := c.Send(context.Background(), pigeonhole.SendRequest{Chat: fmt.Sprintf("a:g%03d", i), Sender: "a", Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if held > 2*waiters+10 {
		t.Fatalf("%d waiting calls held %d goroutines, want about 2 each", waiters, held)
	}
	t.Logf("%d waiting calls held %d goroutines", waiters, held)
}

// TestWaitingCallEndsWithItsCaller makes a waiting pull to a service that
// never answers it: when the caller's context ends, the call must end
// (the connection it waits on is closed), and the client must go on
// serving waiting calls over a new connection.
func TestWaitingCallEndsWithItsCaller(t *testing.T) {
	stuck := make(chan struct{})
	var mu sync.Mutex
	held := 0
	svc := startService(t, server.WithMiddleware(func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			if r, ok := req.(interface{ GetReq() *rpc.PullRequest }); ok && r.GetReq().GetChat() == "a:stuck" {
				mu.Lock()
				held++
				mu.Unlock()
				<-stuck // a replica that does not answer
			}
			return next(ctx, req, resp)
		}
	}))
	t.Cleanup(func() { close(stuck) }) // before the service stops
	c := svc.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Pull(ctx, pigeonhole.PullRequest{Chat: "a:stuck", Wait: 20 * time.Second})
	if err == nil {
		t.Fatal("a waiting pull the service never answered returned no error")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the waiting pull ended %v after it started, its caller's deadline was 300ms", took)
	}
	mu.Lock()
	if held == 0 {
		t.Error("the waiting pull never reached the service")
	}
	mu.Unlock()
	go func() {
		time.Sleep(200 * time.Millisecond)
		c.Send(context.Background(), pigeonhole.SendRequest{Chat: "a:next", Sender: "a", Text: "after"})
	}()
	p, err := c.Pull(context.Background(), pigeonhole.PullRequest{Chat: "a:next", Wait: 10 * time.Second})
	if err != nil || len(p.Messages) != 1 || p.Messages[0].Text != "after" {
		t.Fatalf("the next waiting pull: %+v, %v; want the message sent meanwhile", p, err)
	}
}
