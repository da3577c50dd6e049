package rpcclient_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/kitex/server"

	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitexrpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/notify"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlite"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// service is a real message service on the embedded store, served over
// Kitex on a free loopback port.
type service struct {
	addr  string
	store pigeonhole.Store
	logs  *syncBuffer
}

// startService starts the service; opts are extra Kitex server options
// (middlewares that watch or disturb the RPCs).
func startService(t *testing.T, opts ...server.Option) *service {
	t.Helper()
	return startServiceWith(t, nil, opts...)
}

// startServiceWith is startService with the service checking credentials
// with auth, when not nil, as rpc-server --auth jwt does.
func startServiceWith(t *testing.T, auth kitexrpc.Authenticator, opts ...server.Option) *service {
	t.Helper()
	store, err := sqlite.Open(context.Background(), t.TempDir(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &service{addr: freeAddr(t), store: store, logs: &syncBuffer{}}
	log := slog.New(slog.NewJSONHandler(s.logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	n := notify.New(store, notify.Config{})
	go func() {
		h := kitexrpc.NewHandler(pigeonhole.NewService(store, pigeonhole.Config{Notifier: n, RequireCaller: auth != nil}), log, nil, auth)
		done <- kitexrpc.Serve(ctx, h, kitexrpc.ServerConfig{Addr: s.addr, ExitWait: time.Second, Options: opts})
	}()
	t.Cleanup(func() {
		cancel()
		n.Stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		store.Close()
	})
	waitListening(t, s.addr)
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on %s", addr)
}

func newClient(t *testing.T, maxBatch int, addrs ...string) *rpcclient.Client {
	t.Helper()
	c, err := rpcclient.New(rpcclient.Config{
		Addrs:     addrs,
		Timeout:   2 * time.Second,
		RequestID: func(ctx context.Context) string { id, _ := ctx.Value(requestIDKey{}).(string); return id },
		MaxBatch:  maxBatch,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type requestIDKey struct{}

// TestClient runs every case with one RPC per call and with calls
// coalesced into batch RPCs: the caller must not tell the difference.
func TestClient(t *testing.T) {
	for _, maxBatch := range []int{1, 64} {
		t.Run(fmt.Sprintf("MaxBatch=%d", maxBatch), func(t *testing.T) { testClient(t, maxBatch) })
	}
}

func testClient(t *testing.T, maxBatch int) {
	svc := startService(t)
	c := newClient(t, maxBatch, svc.addr)
	ctx := context.Background()

	t.Run("SendAndPullRoundTrip", func(t *testing.T) {
		m, err := c.Send(ctx, pigeonhole.SendRequest{Chat: "b:a", Sender: "b", Text: "hi 👋", ClientMsgID: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Chat.String() != "a:b" || m.SendTime <= 0 {
			t.Fatalf("send: got %+v", m)
		}
		again, err := c.Send(ctx, pigeonhole.SendRequest{Chat: "a:b", Sender: "b", Text: "hi 👋", ClientMsgID: "k1"})
		if err != nil || again.SendTime != m.SendTime {
			t.Fatalf("retry: got %+v, %v; want send_time %d", again, err, m.SendTime)
		}
		for i := 0; i < 3; i++ {
			if _, err := c.Send(ctx, pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		p, err := c.Pull(ctx, pigeonhole.PullRequest{Chat: "a:b", Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Messages) != 2 || !p.HasMore || !p.Final || p.Messages[0].Text != "hi 👋" || p.Messages[0].Sender != "b" ||
			p.Messages[0].SendTime != m.SendTime || p.Messages[0].Chat.String() != "a:b" || p.NextCursor <= p.Messages[1].SendTime {
			t.Fatalf("pull: got %+v", p)
		}
		p, err = c.Pull(ctx, pigeonhole.PullRequest{Chat: "a:b", Reverse: true, Limit: 1})
		if err != nil || len(p.Messages) != 1 || p.Messages[0].Text != "2" || p.Final {
			t.Fatalf("reverse pull: got %+v, %v", p, err)
		}
	})
	t.Run("BusinessErrorsKeepCodeAndMessage", func(t *testing.T) {
		_, err := c.Send(ctx, pigeonhole.SendRequest{Chat: "a:b", Sender: "x", Text: "hi"})
		if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeInvalidArgument; got != want {
			t.Fatalf("code: got %s, want %s", got, want)
		}
		if got, want := pigeonhole.ErrorMessage(err), `sender "x" is not a member of chat "a:b"`; got != want {
			t.Fatalf("message: got %q, want %q", got, want)
		}
		_, err = c.Send(ctx, pigeonhole.SendRequest{Chat: "a:b", Sender: "b", Text: "other", ClientMsgID: "k1"})
		if got := pigeonhole.ErrorCode(err); got != pigeonhole.CodeConflict {
			t.Fatalf("conflict: got %s (%v)", got, err)
		}
		_, err = c.Pull(ctx, pigeonhole.PullRequest{Chat: "a:b", Limit: -1})
		if got := pigeonhole.ErrorCode(err); got != pigeonhole.CodeInvalidArgument {
			t.Fatalf("negative limit: got %s (%v)", got, err)
		}
	})
	t.Run("Ready", func(t *testing.T) {
		if err := c.Ready(ctx); err != nil {
			t.Fatalf("ready: %v", err)
		}
	})
	t.Run("DeadlineExceeded", func(t *testing.T) {
		// Again and again: Kitex may still send an attempt cut off by the
		// deadline and read its answer after the call returned, and
		// nothing else may touch that answer (the race detector watches).
		for range 50 {
			short, cancel := context.WithTimeout(ctx, time.Nanosecond)
			<-short.Done()
			_, err := c.Pull(short, pigeonhole.PullRequest{Chat: "a:b"})
			cancel()
			if got := pigeonhole.ErrorCode(err); got != pigeonhole.CodeDeadlineExceeded {
				t.Fatalf("got %s (%v), want deadline_exceeded", got, err)
			}
		}
	})
	t.Run("StorageDownIsUnavailableAndLoggedWithRequestID", func(t *testing.T) {
		svc.store.Close()
		rctx := context.WithValue(ctx, requestIDKey{}, "req-42")
		_, err := c.Send(rctx, pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "lost"})
		if got := pigeonhole.ErrorCode(err); got != pigeonhole.CodeUnavailable {
			t.Fatalf("send with the store closed: got %s (%v), want unavailable", got, err)
		}
		if got := pigeonhole.ErrorCode(c.Ready(rctx)); got != pigeonhole.CodeUnavailable {
			t.Fatalf("ready with the store closed: got %s, want unavailable", got)
		}
		if logs := svc.logs.String(); !strings.Contains(logs, `"request_id":"req-42"`) {
			t.Fatalf("service log lacks the request id: %s", logs)
		}
	})
}

func TestNoServiceIsUnavailable(t *testing.T) {
	c := newClient(t, 64, freeAddr(t))
	_, err := c.Pull(context.Background(), pigeonhole.PullRequest{Chat: "a:b"})
	if got := pigeonhole.ErrorCode(err); got != pigeonhole.CodeUnavailable {
		t.Fatalf("got %s (%v), want unavailable", got, err)
	}
	if _, err := rpcclient.New(rpcclient.Config{}); err == nil {
		t.Fatal("a client without addresses or resolver was built")
	}
}

func TestEmptyChatStillReachesTheService(t *testing.T) {
	svc := startService(t)
	c := newClient(t, 1, svc.addr)
	_, err := c.Pull(context.Background(), pigeonhole.PullRequest{Chat: ""})
	if got := pigeonhole.ErrorCode(err); got != pigeonhole.CodeInvalidArgument {
		t.Fatalf("got %s (%v), want the service's invalid_argument", got, err)
	}
}

// attempts records what the client observes.
type attempts struct {
	mu    sync.Mutex
	calls []string
}

func (a *attempts) ObserveAttempt(method string, retry bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, fmt.Sprintf("%s retry=%v err=%v", method, retry, err != nil))
}

func TestRetriesOnAnotherReplica(t *testing.T) {
	svc := startService(t)
	obs := &attempts{}
	// The first address refuses connections; every call must still succeed
	// through the live replica.
	c, err := rpcclient.New(rpcclient.Config{Addrs: []string{freeAddr(t), svc.addr}, Timeout: 2 * time.Second, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		chat := fmt.Sprintf("u%d:v", i)
		if _, err := c.Send(context.Background(), pigeonhole.SendRequest{Chat: chat, Sender: "v", Text: "x"}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	failed := 0
	for _, c := range obs.calls {
		if strings.HasSuffix(c, "err=true") {
			failed++
		}
	}
	// Each call picks a replica at random: 20 calls all avoiding the dead
	// one has a chance of 2^-20.
	if len(obs.calls) < 21 || failed == 0 {
		t.Fatalf("observed %d attempts, %d failed; want the dead replica tried and passed over: %v", len(obs.calls), failed, obs.calls)
	}
}

// TestConcurrentCallsShareBatchRPCs sends and pulls from many goroutines at
// once through a batching client: each call gets its own outcome (valid
// and invalid ones mixed in the same batches), and the calls travel in
// fewer RPCs than there are calls.
func TestConcurrentCallsShareBatchRPCs(t *testing.T) {
	svc := startService(t)
	obs := &attempts{}
	c, err := rpcclient.New(rpcclient.Config{Addrs: []string{svc.addr}, Timeout: 2 * time.Second, Observer: obs, MaxBatch: 16, BatchLanes: 2})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	times := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sender := "a"
			if i%10 == 0 {
				sender = "stranger" // not a member: must fail alone
			}
			m, err := c.Send(context.Background(), pigeonhole.SendRequest{Chat: "a:b", Sender: sender, Text: fmt.Sprint(i)})
			times[i], errs[i] = m.SendTime, err
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i, err := range errs {
		if i%10 == 0 {
			if pigeonhole.ErrorCode(err) != pigeonhole.CodeInvalidArgument {
				t.Fatalf("send %d from a stranger: %v, want invalid_argument", i, err)
			}
			continue
		}
		if err != nil || times[i] <= 0 || seen[times[i]] {
			t.Fatalf("send %d: time %d, %v (duplicate time: %v)", i, times[i], err, seen[times[i]])
		}
		seen[times[i]] = true
	}
	pages := make([]pigeonhole.Page, n)
	for i := range n {
		wg.Go(func() {
			pages[i], errs[i] = c.Pull(context.Background(), pigeonhole.PullRequest{Chat: "a:b", Cursor: times[1+i/10*10], Limit: 1})
		})
	}
	wg.Wait()
	for i, p := range pages {
		if errs[i] != nil || len(p.Messages) != 1 || p.Messages[0].SendTime != times[1+i/10*10] {
			t.Fatalf("pull %d: %+v, %v", i, p, errs[i])
		}
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	batches := 0
	for _, call := range obs.calls {
		if !strings.HasPrefix(call, "SendBatch ") && !strings.HasPrefix(call, "PullBatch ") {
			t.Fatalf("a call went out as %s", call)
		}
		batches++
	}
	if batches >= 2*n || batches < 2*n/16 {
		t.Fatalf("%d calls travelled in %d RPCs; want them shared (at most 16 a batch)", 2*n, batches)
	}
}

func TestWaitingPull(t *testing.T) {
	svc := startService(t)
	const timeout = 500 * time.Millisecond
	c, err := rpcclient.New(rpcclient.Config{Addrs: []string{svc.addr}, Timeout: timeout, MaxBatch: 64, BatchLanes: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	waited := make(chan pigeonhole.Page, 1)
	go func() {
		p, err := c.Pull(ctx, pigeonhole.PullRequest{Chat: "a:b", Wait: 10 * time.Second})
		if err != nil {
			t.Errorf("waiting pull: %v", err)
		}
		waited <- p
	}()
	t.Run("DoesNotHoldBatchesOfOtherCalls", func(t *testing.T) {
		// One batch lane: if the waiting pull rode in a batch, these calls
		// would queue behind it.
		for i := range 5 {
			if _, err := c.Send(ctx, pigeonhole.SendRequest{Chat: "a:c", Sender: "a", Text: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Pull(ctx, pigeonhole.PullRequest{Chat: "a:c"}); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case p := <-waited:
			t.Fatalf("the waiting pull answered before any message: %+v", p)
		default:
		}
	})
	t.Run("OutlivesTheRPCTimeout", func(t *testing.T) {
		time.Sleep(timeout + 300*time.Millisecond) // past the plain RPC timeout
		if _, err := c.Send(ctx, pigeonhole.SendRequest{Chat: "a:b", Sender: "b", Text: "awaited"}); err != nil {
			t.Fatal(err)
		}
		p := <-waited
		if len(p.Messages) != 1 || p.Messages[0].Text != "awaited" {
			t.Fatalf("waiting pull: got %+v, want [awaited]", p.Messages)
		}
	})
}

func TestWaitingInboxOutlivesTheRPCTimeout(t *testing.T) {
	svc := startService(t)
	const timeout = 500 * time.Millisecond
	c, err := rpcclient.New(rpcclient.Config{Addrs: []string{svc.addr}, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := c.Inbox(ctx, pigeonhole.InboxRequest{Member: "a"})
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan pigeonhole.InboxPage, 1)
	go func() {
		p, err := c.Inbox(ctx, pigeonhole.InboxRequest{Member: "a", Cursor: first.NextCursor, Wait: 10 * time.Second})
		if err != nil {
			t.Errorf("waiting inbox call: %v", err)
		}
		waited <- p
	}()
	time.Sleep(timeout + 300*time.Millisecond) // past the plain RPC timeout
	if _, err := c.Send(ctx, pigeonhole.SendRequest{Chat: "a:z", Sender: "z", Text: "awaited"}); err != nil {
		t.Fatal(err)
	}
	if p := <-waited; len(p.Chats) != 1 || p.Chats[0].Chat.String() != "a:z" {
		t.Fatalf("waiting inbox call: got %+v, want [a:z]", p.Chats)
	}
}
