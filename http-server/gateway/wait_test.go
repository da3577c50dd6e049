package gateway_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// recordingPull is a fake service that hands each pull it gets, with its
// context, to the test.
func recordingPull() (*fakeService, <-chan pulled) {
	got := make(chan pulled, 16)
	return &fakeService{pull: func(ctx context.Context, req pigeonhole.PullRequest) (pigeonhole.Page, error) {
		deadline, _ := ctx.Deadline()
		got <- pulled{req: req, left: time.Until(deadline)}
		return pigeonhole.Page{NextCursor: req.Cursor}, nil
	}}, got
}

type pulled struct {
	req  pigeonhole.PullRequest
	left time.Duration // until the call's deadline
}

func TestWaitMs(t *testing.T) {
	svc, got := recordingPull()
	const requestTimeout = 2 * time.Second
	e := newEngine(t, svc, gateway.Config{MaxWait: 10 * time.Second, RequestTimeout: requestTimeout})
	for _, tc := range []struct {
		name, method, url, body string
		want                    time.Duration
	}{
		{"FromTheQuery", "GET", "/api/pull?chat=a:b&wait_ms=1500", "", 1500 * time.Millisecond},
		{"FromJSON", "POST", "/api/pull", `{"chat":"a:b","wait_ms":1500}`, 1500 * time.Millisecond},
		{"CappedByMaxWait", "GET", "/api/pull?chat=a:b&wait_ms=600000", "", 10 * time.Second},
		{"AbsentIsNoWait", "GET", "/api/pull?chat=a:b", "", 0},
		{"ReverseNeverWaits", "GET", "/api/pull?chat=a:b&reverse=true&wait_ms=1500", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustPull(t, e, tc.method, tc.url, tc.body, header("Content-Type", "application/json"))
			p := <-got
			if p.req.Wait != tc.want {
				t.Fatalf("wait: got %v, want %v", p.req.Wait, tc.want)
			}
			if p.left < tc.want+requestTimeout-time.Second || p.left > tc.want+requestTimeout {
				t.Fatalf("time left to the call: got %v, want its wait plus the request timeout, %v", p.left, tc.want+requestTimeout)
			}
		})
	}
	t.Run("NotAnIntegerIsInvalid", func(t *testing.T) {
		assertError(t, perform(e, "GET", "/api/pull?chat=a:b&wait_ms=soon", ""), 400, "invalid_argument")
	})
	t.Run("NegativeIsTheServicesToRefuse", func(t *testing.T) {
		assertError(t, perform(newEngine(t, mustService(t), gateway.Config{}), "GET", "/api/pull?chat=a:b&wait_ms=-1", ""), 400, "invalid_argument")
	})
}

func TestMaxWaitersAnswersTheExcessAsAPlainPoll(t *testing.T) {
	entered := make(chan pigeonhole.PullRequest, 4)
	release := make(chan struct{})
	svc := &fakeService{pull: func(ctx context.Context, req pigeonhole.PullRequest) (pigeonhole.Page, error) {
		entered <- req
		if req.Wait > 0 {
			<-release
		}
		return pigeonhole.Page{NextCursor: req.Cursor}, nil
	}}
	e := newEngine(t, svc, gateway.Config{MaxWaiters: 1})
	first := make(chan int, 1)
	go func() { first <- perform(e, "GET", "/api/pull?chat=a:b&wait_ms=30000", "").Code }()
	if req := <-entered; req.Wait != 30*time.Second {
		t.Fatalf("first pull's wait: got %v, want 30s", req.Wait)
	}
	mustPull(t, e, "GET", "/api/pull?chat=a:c&wait_ms=30000", "")
	if req := <-entered; req.Wait != 0 {
		t.Fatalf("pull past --max-waiters: got wait %v, want 0 (a plain poll)", req.Wait)
	}
	close(release)
	if code := <-first; code != 200 {
		t.Fatalf("first pull: got %d, want 200", code)
	}
	// The slot is free again.
	go perform(e, "GET", "/api/pull?chat=a:b&wait_ms=30000", "")
	if req := <-entered; req.Wait != 30*time.Second {
		t.Fatalf("pull after the first ended: got wait %v, want 30s", req.Wait)
	}
}

func TestShutdownAnswersWaitingPulls(t *testing.T) {
	entered := make(chan struct{}, 1)
	svc := &fakeService{pull: func(ctx context.Context, req pigeonhole.PullRequest) (pigeonhole.Page, error) {
		entered <- struct{}{}
		<-ctx.Done() // a service that only answers when the time is up
		return pigeonhole.Page{}, pigeonhole.Wrap(pigeonhole.CodeDeadlineExceeded, ctx.Err(), "the message service did not answer in time")
	}}
	var page pullBody
	shutDownWhileWaiting(t, svc, entered, "/api/pull?chat=a:b&cursor=42&wait_ms=30000", &page)
	if len(page.Messages) != 0 || page.HasMore || page.NextCursor != 42 {
		t.Fatalf("answer: got %+v, want the empty page at cursor 42", page)
	}
}

// shutDownWhileWaiting starts a gateway over svc, makes a waiting request
// to path, shuts the gateway down once svc has taken it (entered), and
// decodes the answer, which must be a 200 that came within 5 s of the
// shutdown: a waiting request must not hold the drain.
func shutDownWhileWaiting(t *testing.T, svc gateway.MessageService, entered <-chan struct{}, path string, out any) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := gateway.New(ln.Addr().String(), svc, gateway.Config{Logger: discardLogger()}, server.WithListener(ln), server.WithExitWaitTime(10*time.Second))
	done := make(chan error, 1)
	go func() { done <- h.Run() }()
	answer := make(chan *http.Response, 1)
	go func() {
		client := &http.Client{Timeout: 20 * time.Second}
		for {
			resp, err := client.Get("http://" + ln.Addr().String() + path)
			if err == nil {
				answer <- resp
				return
			}
			time.Sleep(10 * time.Millisecond) // the server is starting
		}
	}()
	<-entered
	start := time.Now()
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	<-done
	resp := <-answer
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("answer: status %d, %v", resp.StatusCode, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("shutdown took %v: the waiting request held it", took)
	}
}

func TestInboxWaitMs(t *testing.T) {
	type called struct {
		req  pigeonhole.InboxRequest
		left time.Duration
	}
	got := make(chan called, 1)
	svc := &fakeService{inbox: func(ctx context.Context, req pigeonhole.InboxRequest) (pigeonhole.InboxPage, error) {
		deadline, _ := ctx.Deadline()
		got <- called{req: req, left: time.Until(deadline)}
		return pigeonhole.InboxPage{NextCursor: req.Cursor}, nil
	}}
	const requestTimeout = 2 * time.Second
	e := newEngine(t, svc, gateway.Config{MaxWait: 10 * time.Second, RequestTimeout: requestTimeout})
	for _, tc := range []struct {
		name, method, url, body string
		want                    time.Duration
	}{
		{"FromTheQuery", "GET", "/api/inbox?member=a&cursor=c&wait_ms=1500", "", 1500 * time.Millisecond},
		{"FromAJSONBody", "GET", "/api/inbox", `{"member":"a","cursor":"c","wait_ms":1500}`, 1500 * time.Millisecond},
		{"CappedByMaxWait", "GET", "/api/inbox?member=a&cursor=c&wait_ms=600000", "", 10 * time.Second},
		{"AbsentIsNoWait", "GET", "/api/inbox?member=a&cursor=c", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := perform(e, tc.method, tc.url, tc.body, header("Content-Type", "application/json"))
			if w.Code != 200 {
				t.Fatalf("status: got %d, want 200: %s", w.Code, w.Body.Bytes())
			}
			c := <-got
			if c.req.Wait != tc.want || c.req.Member != "a" || c.req.Cursor != "c" {
				t.Fatalf("request: got %+v, want member a, cursor c, wait %v", c.req, tc.want)
			}
			if c.left < tc.want+requestTimeout-time.Second || c.left > tc.want+requestTimeout {
				t.Fatalf("time left to the call: got %v, want its wait plus the request timeout, %v", c.left, tc.want+requestTimeout)
			}
		})
	}
	t.Run("NotAnIntegerIsInvalid", func(t *testing.T) {
		assertError(t, perform(e, "GET", "/api/inbox?member=a&wait_ms=soon", ""), 400, "invalid_argument")
	})
	t.Run("NegativeIsTheServicesToRefuse", func(t *testing.T) {
		assertError(t, perform(newEngine(t, mustService(t), gateway.Config{}), "GET", "/api/inbox?member=a&wait_ms=-1", ""), 400, "invalid_argument")
	})
}

func TestMaxWaitersCountsWaitingInboxCalls(t *testing.T) {
	release := make(chan struct{})
	inboxEntered := make(chan pigeonhole.InboxRequest, 4)
	pulls := make(chan pigeonhole.PullRequest, 4)
	svc := &fakeService{
		inbox: func(ctx context.Context, req pigeonhole.InboxRequest) (pigeonhole.InboxPage, error) {
			inboxEntered <- req
			if req.Wait > 0 {
				<-release
			}
			return pigeonhole.InboxPage{NextCursor: req.Cursor}, nil
		},
		pull: func(ctx context.Context, req pigeonhole.PullRequest) (pigeonhole.Page, error) {
			pulls <- req
			return pigeonhole.Page{NextCursor: req.Cursor}, nil
		},
	}
	e := newEngine(t, svc, gateway.Config{MaxWaiters: 1})
	first := make(chan int, 1)
	go func() { first <- perform(e, "GET", "/api/inbox?member=a&cursor=c&wait_ms=30000", "").Code }()
	if req := <-inboxEntered; req.Wait != 30*time.Second {
		t.Fatalf("first inbox call's wait: got %v, want 30s", req.Wait)
	}
	mustPull(t, e, "GET", "/api/pull?chat=a:b&wait_ms=30000", "")
	if req := <-pulls; req.Wait != 0 {
		t.Fatalf("pull past --max-waiters: got wait %v, want 0 (a plain poll)", req.Wait)
	}
	if w := perform(e, "GET", "/api/inbox?member=a&cursor=c&wait_ms=30000", ""); w.Code != 200 {
		t.Fatalf("inbox call past --max-waiters: got %d, want 200", w.Code)
	}
	if req := <-inboxEntered; req.Wait != 0 {
		t.Fatalf("inbox call past --max-waiters: got wait %v, want 0 (a plain call)", req.Wait)
	}
	close(release)
	if code := <-first; code != 200 {
		t.Fatalf("first inbox call: got %d, want 200", code)
	}
}

func TestShutdownAnswersWaitingInboxCalls(t *testing.T) {
	entered := make(chan struct{}, 1)
	svc := &fakeService{inbox: func(ctx context.Context, req pigeonhole.InboxRequest) (pigeonhole.InboxPage, error) {
		entered <- struct{}{}
		<-ctx.Done() // a service that only answers when the time is up
		return pigeonhole.InboxPage{}, pigeonhole.Wrap(pigeonhole.CodeDeadlineExceeded, ctx.Err(), "the message service did not answer in time")
	}}
	var page inboxBody
	shutDownWhileWaiting(t, svc, entered, "/api/inbox?member=a&cursor=MSAxIDE&wait_ms=30000", &page)
	if len(page.Chats) != 0 || page.HasMore || page.NextCursor != "MSAxIDE" {
		t.Fatalf("answer: got %+v, want the empty page with cursor MSAxIDE", page)
	}
}
